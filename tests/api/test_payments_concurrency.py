"""The same payment request from several threads at once, over a real socket.

A tablet on a bad connection resends a payment it has no answer for, sometimes while the first
request is still running. Whatever the interleaving, exactly one request creates the payment
(201) and every other one is answered with that same payment (200).
"""

from __future__ import annotations

import threading

from tests.records import factories as f
from yibao.api.tokens import api_token_issue
from yibao.collection.models import Enrollment, Payment

from .conftest import API, payment_body
from .test_live_server import _call

THREADS = 8


def test_concurrent_replays_of_one_payment_create_it_once(api_live_server, town):
    person = f.person(town.sanhe, name="周八")
    # Two tablets of the same collector, so requests do not share a token either.
    secrets = [api_token_issue(actor=town.sanhe_collector).secret for _ in range(2)]
    headers = {"Idempotency-Key": "tablet-5-000777"}
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, dict]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            answer = _call(
                api_live_server.url,
                "POST",
                f"{API}/payments",
                secrets[index % 2],
                payment_body(person),
                headers,
            )
        except BaseException as error:  # reported below, with the thread's answer missing
            with lock:
                failures.append(error)
        else:
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (THREADS - 1) + [201], [body for _, body in answers]
    assert len({body["id"] for _, body in answers}) == 1
    assert Payment.objects.count() == 1
    assert Enrollment.objects.get(person=person).status == Enrollment.Status.PAID

    # and a late replay, after all of them, is still the first payment
    status, body = _call(
        api_live_server.url, "POST", f"{API}/payments", secrets[0], payment_body(person), headers
    )
    assert (status, body["id"]) == (200, answers[0][1]["id"])
