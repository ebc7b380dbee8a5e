"""DAG processing: turning DAG files into serialized DAGs and import errors in the metadata DB.

User code is imported only here, each file in a forked child process with a time limit
(:mod:`.parser`); :mod:`.manager` decides which files to parse, stores the results and takes
DAGs whose files are gone off the DAG list. The scheduler and the web server work from what this
package stores and never import DAG files themselves.
"""

from __future__ import annotations

from updraft.core.dag_processing.manager import (
    DagProcessorManager,
    PassStats,
    StopEvent,
    processor_folders,
    start_dag_processor_process,
)
from updraft.core.dag_processing.parser import ParseResult, ParserPool, parse_in_this_process

__all__ = [
    "DagProcessorManager",
    "ParseResult",
    "ParserPool",
    "PassStats",
    "StopEvent",
    "parse_in_this_process",
    "processor_folders",
    "start_dag_processor_process",
]
