"""Running task attempts and DAG runs: context, XCom access, logs, the attempt runner, the run driver."""
