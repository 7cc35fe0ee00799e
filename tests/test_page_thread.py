"""page_thread.Worker: the one background job a page runs, its stop flag, and a closed tab stopping it."""

import threading

from explorer.ui.page_thread import Worker, on_page


class ClosingDocument:
    """Stands in for a served document: remembers what runs when its session ends."""

    session_context = object()

    def __init__(self):
        self.on_close = []

    def on_session_destroyed(self, callback):
        self.on_close.append(callback)


def test_a_job_polls_the_flag_and_stops_when_asked():
    worker, started, seen = Worker("test-job"), threading.Event(), []

    def job():
        started.set()
        while not worker.should_stop():
            threading.Event().wait(0.01)
        seen.append("stopped")

    worker.begin()
    worker.start(job)
    assert started.wait(5) and not worker.wait(0.05)  # still running
    worker.stop()
    assert worker.wait(5) and seen == ["stopped"] and worker.thread.name == "test-job"
    worker.begin()
    assert not worker.should_stop()  # a new job starts with the flag down


def test_a_closed_tab_stops_the_job_once_per_document():
    worker, doc, called = Worker("test-job"), ClosingDocument(), []
    worker.stop_with(doc)
    worker.stop_with(doc)
    worker.stop_with(None)  # no session: nothing to watch
    assert len(doc.on_close) == 1
    doc.on_close[0](None)
    assert worker.should_stop()
    other = ClosingDocument()
    worker.stop_with(other, lambda: called.append(True))
    other.on_close[0](None)
    assert called == [True]


def test_wait_without_a_job_is_true_at_once():
    assert Worker("idle").wait(0)


def test_a_job_that_ends_after_its_page_closed_leaves_the_destroyed_page_alone():
    from bokeh.document import Document

    ran = []
    on_page(None, lambda: ran.append("no session"))
    doc = Document()
    on_page(doc, lambda: ran.append("a notebook's document"))  # no session context: at once
    session = lambda event: None  # noqa: E731  (stands in for the session Bokeh's destroy detaches)
    doc.on_change(session)
    doc.destroy(session)  # what Bokeh does when the tab's session ends
    on_page(doc, lambda: ran.append("destroyed"))
    assert ran == ["no session", "a notebook's document"]
