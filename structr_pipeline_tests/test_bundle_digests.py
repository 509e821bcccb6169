"""The bundle of every pinned input is byte for byte what it was when last accepted."""

from __future__ import annotations

import pytest

from structr_pipeline_tests.bundle_digests import (
    BundleCase,
    bundle_digests,
    case_key,
    cases,
    normalized_digests,
    read_golden,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("case", cases(), ids=case_key)
def test_bundle_is_as_accepted(case: BundleCase, tmp_path, request) -> None:
    if case.name.startswith("shared:"):
        request.getfixturevalue("datasets_dir")
    expected = read_golden()[case_key(case)]
    assert bundle_digests(case, tmp_path) == expected, (
        "the bundle changed; if the change is intended, accept it with "
        "`python -m structr_pipeline_tests.bundle_digests --write`"
    )


def test_digests_see_a_changed_byte_and_ignore_the_run_specific_values(tmp_path) -> None:
    def bundle(home_name: str, batch: str, created: str, price: str):
        home = tmp_path / home_name
        out = home / "exports" / batch
        out.mkdir(parents=True)
        (out / "summary.json").write_text(
            f'{{"batch_id": "{batch}", "created_at": "{created}",'
            f' "files": {{"csv": "{out / "shopify_import.csv"}"}}}}'
        )
        (out / "shopify_import.csv").write_text(f"Handle,Price\nmug,{price}\n")
        return normalized_digests(out, home)

    first = bundle("a", "csv-20260101T000000-aa", "2026-01-01T00:00:00+00:00", "9.99")
    same = bundle("b", "csv-20260102T000000-aa", "2026-01-02T10:00:00+00:00", "9.99")
    other = bundle("c", "csv-20260103T000000-aa", "2026-01-03T00:00:00+00:00", "9.98")
    assert first == same
    assert first["shopify_import.csv"] != other["shopify_import.csv"]
    assert first["summary.json"] == other["summary.json"]
