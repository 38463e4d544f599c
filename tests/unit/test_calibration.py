"""qa.evaluation.calibration: reliability bins, ECE and AURC against values worked out by hand."""

import pytest

from qa.evaluation.calibration import (
    aurc,
    bin_index,
    calibration_report,
    expected_calibration_error,
    reliability,
    risk_coverage_curve,
)


def test_bins_are_equal_width_and_one_falls_in_the_last():
    assert [bin_index(c) for c in (0.0, 0.05, 0.1, 0.55, 0.999, 1.0)] == [0, 0, 1, 5, 9, 9]


def test_reliability_table_by_hand():
    bins = reliability([0.05, 0.15, 0.95, 0.85, 0.91], [False, True, True, False, True])
    assert [b.questions for b in bins] == [1, 1, 0, 0, 0, 0, 0, 0, 1, 2]
    assert bins[9].mean_confidence == pytest.approx(0.93) and bins[9].accuracy == 1.0
    assert bins[8].mean_confidence == pytest.approx(0.85) and bins[8].accuracy == 0.0
    assert bins[2].mean_confidence is None and bins[2].accuracy is None
    assert (bins[0].low, bins[0].high, bins[9].low, bins[9].high) == (0.0, 0.1, 0.9, 1.0)


def test_ece_by_hand():
    # bins: [0.05] wrong -> |0 - 0.05|; [0.15] right -> |1 - 0.15|; [0.85] wrong -> 0.85; [0.95, 0.91] right -> 0.07
    conf, ok = [0.05, 0.15, 0.95, 0.85, 0.91], [False, True, True, False, True]
    expected = (0.05 + 0.85 + 0.85 + 2 * 0.07) / 5
    assert expected_calibration_error(conf, ok) == pytest.approx(expected)


def test_a_perfectly_calibrated_bin_has_no_error():
    conf = [0.75] * 4
    assert expected_calibration_error(conf, [True, True, True, False]) == pytest.approx(0.0)


def test_risk_coverage_and_aurc_by_hand():
    conf, ok = [0.9, 0.2, 0.6, 0.4], [True, False, False, True]
    # by confidence: 0.9 right, 0.6 wrong, 0.4 right, 0.2 wrong -> risks 0, 1/2, 1/3, 2/4
    assert risk_coverage_curve(conf, ok) == pytest.approx([0.0, 0.5, 1 / 3, 0.5])
    assert aurc(conf, ok) == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4)
    # a confidence that puts both right answers first has the lowest area for this accuracy
    assert aurc([0.9, 0.1, 0.2, 0.8], ok) == pytest.approx((0 + 0 + 1 / 3 + 0.5) / 4)


def test_report_keys_and_answered_accuracy():
    r = calibration_report([0.9, 0.2, 0.6, 0.4], [True, False, False, True], [True, False, True, True])
    assert set(r) == {"ece", "aurc", "answered", "answered_accuracy", "reliability"}
    assert r["answered"] == 0.75 and r["answered_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert len(r["reliability"]) == 10 and sum(b["questions"] for b in r["reliability"]) == 4


def test_nothing_answered():
    r = calibration_report([0.1, 0.2], [False, False], [False, False])
    assert r["answered"] == 0.0 and r["answered_accuracy"] is None and r["ece"] == pytest.approx(0.15)
