"""TaskFlow with dynamic task mapping: one task instance per file, then a total.

``list_files`` decides at run time how many ``count_words`` instances there are.
"""

from datetime import datetime

from updraft import dag, task, task_group


@dag(schedule=None, start_date=datetime(2024, 1, 1), tags=["example", "taskflow"])
def example_taskflow_mapping(batch: str = "demo"):
    @task
    def list_files(batch: str) -> list[str]:
        return [f"{batch}/part-{i}.txt" for i in range(4)]

    @task
    def count_words(path: str, multiplier: int) -> int:
        return len(path) * multiplier

    @task_group
    def per_file(paths):
        counts = count_words.partial(multiplier=2).expand(path=paths)
        return counts

    @task(multiple_outputs=True)
    def total(counts: list[int]) -> dict:
        return {"files": len(counts), "words": sum(counts)}

    @task
    def announce(files: int, words: int) -> str:
        message = f"{files} files, {words} words"
        print(message)
        return message

    summary = total(per_file(list_files(batch)))
    announce(summary["files"], summary["words"])


example_taskflow_mapping()
