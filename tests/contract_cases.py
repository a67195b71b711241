"""Cases both in-process app tests share: every bad request of the contract, and a good one."""

from bench.bad_inputs import BAD_REQUESTS

BAD_IDS = [bad.name for bad in BAD_REQUESTS]


def assert_contract_error(status: int, body: dict, bad) -> None:
    assert status == bad.status, body
    assert body["error"]["code"] == bad.code
    assert body["error"]["message"]
    if bad.field:
        assert body["error"]["field"] == bad.field
