"""Streaming from CSV/Parquet files equals the in-memory statistics; row-level errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm

import driverkit as dk
from driverkit.exceptions import ColumnNotFoundError, DataError, DriverkitError
from driverkit.stats import SufficientStats, grouped_sufficient_stats, iter_frames, map_chunks

COLS = ["staff", "price", "speed", "sat"]


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(7)
    n = 6000
    X = rng.integers(1, 11, size=(n, 3)).astype(float)
    y = 1 + X @ [0.4, 0.25, 0.1] + rng.normal(size=n)
    df = pd.DataFrame(np.column_stack([X, y]), columns=COLS)
    df["weight"] = rng.uniform(0.3, 3, size=n)
    df["region"] = rng.choice(["north", "south", "east"], size=n)
    return df


@pytest.fixture(scope="module")
def files(survey, tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    survey.to_csv(d / "s.csv", index=False)
    survey.to_csv(d / "s.csv.gz", index=False)
    # Parquet with several row groups, and the same rows split over two files
    pq.write_table(pa.Table.from_pandas(survey, preserve_index=False), d / "s.parquet",
                   row_group_size=1000)
    (d / "parts").mkdir()
    survey.iloc[:2500].to_parquet(d / "parts" / "p0.parquet", index=False)
    survey.iloc[2500:].to_parquet(d / "parts" / "p1.parquet", index=False)
    return d


@pytest.fixture(scope="module")
def in_memory(survey):
    return SufficientStats.from_arrays(survey[COLS].to_numpy(), COLS,
                                       survey["weight"].to_numpy())


def assert_same(a: SufficientStats, b: SufficientStats, tol=1e-10):
    assert a.n_obs == b.n_obs
    assert a.columns == b.columns
    np.testing.assert_allclose(a.mean, b.mean, rtol=0, atol=tol)
    np.testing.assert_allclose(a.covariance(), b.covariance(), rtol=0, atol=tol)
    np.testing.assert_allclose(a.ols("sat").params, b.ols("sat").params, rtol=0, atol=tol)
    assert a.sum_weights == pytest.approx(b.sum_weights, rel=1e-13)


@pytest.mark.parametrize("name", ["s.csv", "s.csv.gz", "s.parquet", "parts"])
def test_streamed_file_equals_in_memory(files, in_memory, name):
    st = dk.sufficient_stats(files / name, COLS, weights="weight", chunksize=700)
    assert_same(st, in_memory)


def test_list_of_files_equals_in_memory(files, in_memory):
    paths = [str(files / "parts" / "p0.parquet"), files / "parts" / "p1.parquet"]
    assert_same(dk.sufficient_stats(paths, COLS, weights="weight"), in_memory)


def test_streamed_ols_against_statsmodels_wls(files, survey):
    st = dk.sufficient_stats(files / "s.csv", COLS, weights="weight", chunksize=500)
    fit = st.ols("sat", ["staff", "price", "speed"])
    ref = sm.WLS(survey["sat"], sm.add_constant(survey[["staff", "price", "speed"]]),
                 weights=survey["weight"]).fit()
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-9)


def _with_bad_cell(survey, row0):
    bad = survey[COLS].astype(object)
    bad.loc[row0, "staff"] = "n/a"
    return bad


def test_csv_with_text_in_a_rating_names_row_and_column(survey, tmp_path):
    # data row 3,123 (0-based 3,122) holds 'n/a'; the reader's blocks are far smaller
    _with_bad_cell(survey, 3122).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError) as e:
        dk.sufficient_stats(tmp_path / "bad.csv", COLS, chunksize=200)
    msg = str(e.value)
    assert "file 'bad.csv', row 3,123 (line 3,124 of the file), column 'staff'" in msg
    assert "value 'n/a' is not a number" in msg


def test_parquet_with_text_in_a_rating_names_row_and_column(survey, tmp_path):
    bad = _with_bad_cell(survey, 3122).astype({"staff": str})
    pq.write_table(pa.Table.from_pandas(bad, preserve_index=False), tmp_path / "bad.parquet",
                   row_group_size=1000)
    with pytest.raises(DataError, match=r"In file 'bad\.parquet', row 3,123, column 'staff': "
                                        r"value 'n/a' is not a number"):
        dk.sufficient_stats(tmp_path / "bad.parquet", COLS, chunksize=450)


def test_dataframe_with_text_in_a_rating_names_row_and_index(survey):
    bad = _with_bad_cell(survey, 3122)
    with pytest.raises(DataError, match=r"Row 3,123 \(index 3122\), column 'staff': "
                                        r"value 'n/a' is not a number"):
        dk.sufficient_stats(bad, COLS, chunksize=1000)


def test_numbers_stored_as_text_are_read(survey, tmp_path):
    txt = survey[COLS].astype(str)
    txt.loc[10, "price"] = ""  # empty = missing
    with pytest.warns(dk.MissingDataWarning, match="dropped 1 "):
        st = dk.sufficient_stats(txt, COLS)
    assert st.n_obs == len(survey) - 1
    np.testing.assert_allclose(st.mean, survey[COLS].drop(index=10).mean(), rtol=1e-12)


def test_csv_missing_cells_listwise(survey, tmp_path):
    d = survey[COLS].copy()
    d.loc[[3, 4000], "speed"] = np.nan
    d.to_csv(tmp_path / "m.csv", index=False)
    with pytest.warns(dk.MissingDataWarning, match="dropped 2 of 6,000"):
        st = dk.sufficient_stats(tmp_path / "m.csv", COLS, chunksize=300)
    np.testing.assert_allclose(st.covariance(), d.dropna().cov(), rtol=1e-12)
    with pytest.raises(DataError, match=r"row 4 \(line 5 of the file\), column 'speed'"):
        dk.sufficient_stats(tmp_path / "m.csv", COLS, missing="raise")


def test_file_errors_name_the_culprit(files, tmp_path):
    with pytest.raises(ColumnNotFoundError, match=r"'stafff'.*Did you mean 'staff'"):
        dk.sufficient_stats(files / "s.parquet", ["stafff", "sat"])
    with pytest.raises(ColumnNotFoundError, match=r"'stafff'.*in file 's.csv'"):
        dk.sufficient_stats(files / "s.csv", ["stafff", "sat"])
    with pytest.raises(DriverkitError, match="does not exist"):
        dk.sufficient_stats(tmp_path / "nope.parquet", COLS)
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(DriverkitError, match="Cannot tell the format"):
        dk.sufficient_stats(tmp_path / "x.xlsx", COLS)
    with pytest.raises(dk.DriverkitTypeError, match="must be a column name"):
        dk.sufficient_stats(files / "s.csv", COLS, weights=[1.0, 2.0])


def test_grouped_stats_merge_to_the_whole(files, survey, in_memory):
    parts = grouped_sufficient_stats(files / "s.parquet", COLS, "region", weights="weight",
                                     chunksize=800)
    assert sorted(parts) == ["east", "north", "south"]
    g = survey[survey.region == "south"]
    ref = SufficientStats.from_arrays(g[COLS].to_numpy(), COLS, g["weight"].to_numpy())
    assert_same(parts["south"], ref)
    assert_same(SufficientStats.merge_all(parts.values()), in_memory)


def test_iter_frames_and_map_chunks(files, survey):
    frames = list(iter_frames(files / "s.parquet", ["staff", "region"], numeric=["staff"],
                              chunksize=1000))
    assert sum(len(f) for f in frames) == len(survey)
    assert frames[1].index[0] == 1000
    total = map_chunks(lambda d: d["staff"].sum(), files / "s.csv", ["staff"], chunksize=900)
    assert total == pytest.approx(survey["staff"].sum())
    st = map_chunks(lambda d: SufficientStats.from_arrays(d[COLS].to_numpy(), COLS),
                    survey, chunksize=1234)
    np.testing.assert_allclose(st.covariance(), survey[COLS].cov(), rtol=1e-12)


def test_parallel_row_groups_are_deterministic_and_equal_sequential(files, in_memory):
    import functools

    from driverkit.stats import _stream as S

    plan = S._plan("files", files / "s.parquet", COLS, "weight", "sampling", "listwise", "t")
    fast = functools.partial(S._fast_chunk_stats, plan=plan)
    runs = [S.run_plan(files / "s.parquet", plan, S._stats_fn, S._merge_stats, chunksize=300,
                       progress=False, threads=t, raw_fn=fast) for t in (4, 4, 2, 1)]
    # same fold order whatever the thread timing: bit-identical
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0][4:], runs[1][0][4:], strict=True))
    for res, n, d in runs:
        assert n == len(in_memory) and d == 0
        np.testing.assert_allclose(res[5] / res[1], in_memory.covariance(ddof=0).to_numpy(),
                                   rtol=0, atol=1e-10)
