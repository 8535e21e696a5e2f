"""Sample-ratio-mismatch check, overall and by segment."""

import pandas as pd
import pytest

from collections_lab.experiments.srm import srm_check


def _units(counts, segments=None):
    rows = []
    for arm, n in counts.items():
        for i in range(n):
            seg = segments[i % len(segments)] if segments else "all"
            rows.append({"customer_id": f"{arm}{i}", "arm": arm, "segment": seg})
    return pd.DataFrame(rows)


def test_balanced_split_passes():
    res = srm_check(_units({"a": 500, "b": 510}))
    assert not res.mismatch
    assert "match" in res.summary()


def test_mismatch_is_flagged_loudly_in_both_languages():
    res = srm_check(_units({"a": 560, "b": 440}), weights={"a": 1, "b": 1})
    assert res.mismatch
    assert res.summary().startswith("WARNING")
    assert res.summary("es").startswith("ADVERTENCIA")
    assert "WARNING" in res._repr_html_()


def test_unequal_weights_are_respected():
    assert not srm_check(_units({"a": 700, "b": 300}), weights={"a": 0.7, "b": 0.3}).mismatch
    assert srm_check(_units({"a": 700, "b": 300})).mismatch


def test_mismatch_inside_one_segment_is_found():
    units = pd.concat([_units({"a": 400, "b": 400}, ["x"]),
                       _units({"a": 300, "b": 180}, ["y"]).assign(
                           customer_id=lambda f: "y" + f["customer_id"])])
    res = srm_check(units)
    assert res.mismatched_segments == ["y"]
    assert "y" in res.summary()
    table = res.to_frame()
    assert set(table["segment"]) == {"all", "x", "y"}


def test_unknown_arm_is_an_error():
    with pytest.raises(ValueError, match="not in the planned weights"):
        srm_check(_units({"a": 10, "c": 10}), weights={"a": 1, "b": 1})
