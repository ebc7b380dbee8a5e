import threading
from tests.runs.conftest import RUN_ID

def test_probe(runs):
    assert threading.current_thread() is threading.main_thread()
    r = runs.run("p", """
    with DAG("p", start_date=START, schedule=None) as dag:
        @task
        def a():
            print("hi")
            return [1, 2]
        @task
        def b(x):
            return x + 1
        b.expand(x=a())
    """)
    assert r.state == "success"
    print(runs.states("p"), runs.xcoms("p"))
