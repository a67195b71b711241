"""Several per-request logs (a distributed run's workers) read as one."""

import pytest

from bench.measure.metrics import Request, read_request_log, read_request_logs

HEADER = "start,name,ms,ok,error"


def write_log(path, *rows):
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_the_logs_are_merged_in_order_of_start(tmp_path):
    first = write_log(tmp_path / "w1.csv", "100.1,predict,3,1,", "100.4,predict,5,1,")
    second = write_log(tmp_path / "w2.csv", "100.2,predict,4,0,CatchResponseError: wrong")
    assert read_request_logs([first, second]) == [
        Request(100.1, "predict", 3.0, True, ""),
        Request(100.2, "predict", 4.0, False, "CatchResponseError: wrong"),
        Request(100.4, "predict", 5.0, True, ""),
    ]


def test_an_empty_log_adds_nothing(tmp_path):
    worker = write_log(tmp_path / "w1.csv", "100.1,predict,3,1,")
    idle = write_log(tmp_path / "w2.csv")
    assert read_request_logs([worker, idle]) == [Request(100.1, "predict", 3.0, True, "")]


def test_a_missing_log_is_named(tmp_path):
    present = write_log(tmp_path / "w1.csv", "100.1,predict,3,1,")
    with pytest.raises(FileNotFoundError, match=r"w2\.csv"):
        read_request_logs([present, tmp_path / "w2.csv"])


def test_no_log_at_all_is_an_error():
    with pytest.raises(ValueError, match="no request log"):
        read_request_logs([])


def test_a_malformed_request_log_line_is_a_value_error_naming_the_line(tmp_path):
    log = tmp_path / "level.requests.csv"
    log.write_text("start,name,ms,ok,error\n1767225600.0,predict,3.2,1,\n1767225600.1,predict\n")
    with pytest.raises(ValueError, match="line 3 is malformed"):
        read_request_log(log)
