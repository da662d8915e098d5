"""IDX reading and checksums, the data-set splits, and packed weight storage."""

import gzip
import itertools
import os
import re
import shutil

import numpy as np
import pytest

from combopt.nn.datasets import load_digits, load_iris, load_mnist
from combopt.nn.idx import MNIST_FILES, mnist_path, read_idx, sha256_of, verify_checksum
from combopt.nn.models import DenseNet, pretrain
from combopt.nn.packing import PackedDenseNet, bits_per_weight, pack_codes, unpack_codes

DATA = os.environ.get("COMBOPT_DATA")
needs_data = pytest.mark.skipif(
    not DATA, reason="COMBOPT_DATA is not set (published MNIST files needed)"
)


def _write_idx(path, array, type_byte=0x08):
    header = bytes([0, 0, type_byte, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def test_idx_round_trip_plain_and_gzip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", images)
    _write_idx(tmp_path / "a.idx.gz", images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx", expected_magic=2051), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), images)
    floats = np.array([1.5, -2.0], dtype=np.float64)
    _write_idx(tmp_path / "f.idx", floats, type_byte=0x0E)
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), floats)


@pytest.mark.parametrize(
    "payload,message",
    [
        (b"\x01\x00\x08\x01", "bad magic"),
        (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "type byte"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "header says 5"),
        (bytes([0, 0, 8, 3, 0, 0]), "truncated"),
    ],
)
def test_idx_bad_files_are_clear_errors(tmp_path, payload, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_idx_wrong_magic_is_rejected(tmp_path):
    _write_idx(tmp_path / "l.idx", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="expected 2051"):
        read_idx(tmp_path / "l.idx", expected_magic=2051)


def test_checksum_mismatch_is_detected(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"not mnist")
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  {path.name}\n")
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        verify_checksum(path)
    (tmp_path / "SHA256SUMS").write_text(f"{sha256_of(path)}  {path.name}\n")
    verify_checksum(path)


def test_missing_mnist_is_an_oserror_naming_the_download(tmp_path):
    with pytest.raises(OSError, match="download_mnist"):
        mnist_path(MNIST_FILES[0], tmp_path)


def test_mnist_needs_combopt_data(monkeypatch):
    monkeypatch.delenv("COMBOPT_DATA", raising=False)
    with pytest.raises(OSError, match="COMBOPT_DATA"):
        load_mnist(n_train=10, n_val=10)


@needs_data
def test_mnist_files_verify_and_load():
    ds = load_mnist(n_train=500, n_val=100)
    assert ds.X_train.shape == (500, 784) and ds.X_val.shape == (100, 784)
    assert ds.X_train.min() >= 0.0 and ds.X_train.max() == 1.0
    assert ds.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the well-known first labels
    assert ds.y_val[:5].tolist() == [7, 2, 1, 0, 4]


@needs_data
def test_corrupted_copy_of_mnist_is_refused(tmp_path):
    for name in MNIST_FILES:
        shutil.copy(os.path.join(DATA, "mnist", name), tmp_path / name)
    shutil.copy(os.path.join(DATA, "mnist", "SHA256SUMS"), tmp_path / "SHA256SUMS")
    with open(tmp_path / MNIST_FILES[1], "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01")
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist(n_train=10, n_val=10, directory=tmp_path)


def test_iris_split_is_the_papers_120_30_and_stratified():
    ds = load_iris(seed=3)
    assert ds.X_train.shape == (120, 4) and ds.X_val.shape == (30, 4)
    assert np.bincount(ds.y_val).tolist() == [10, 10, 10]
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    other = load_iris(seed=4)
    assert not np.array_equal(other.y_val, ds.y_val) or not np.array_equal(other.X_val, ds.X_val)


def test_digits_split():
    ds = load_digits()
    assert ds.X_train.shape == (1437, 64) and ds.X_val.shape == (360, 64)
    assert ds.n_classes == 10 and ds.X_train.max() == 1.0


@pytest.mark.parametrize("size,bits", [(2, 1), (3, 2), (4, 2), (5, 3), (9, 4), (256, 8), (300, 9)])
def test_pack_round_trip(size, bits):
    rng = np.random.default_rng(size)
    assert bits_per_weight(size) == bits
    codes = rng.integers(0, size, 1001)
    packed = pack_codes(codes, bits)
    assert packed.size == -(-1001 * bits // 8)
    np.testing.assert_array_equal(unpack_codes(packed, bits, 1001), codes)


def test_pack_rejects_codes_that_do_not_fit():
    with pytest.raises(ValueError, match="codes must lie"):
        pack_codes(np.array([0, 4]), 2)


def _ternary_net(rng, sizes, scales):
    weights, biases = [], []
    for t, (a, b) in enumerate(itertools.pairwise(sizes)):
        weights.append(scales[2 * t] * rng.integers(-1, 2, (a, b)).astype(float))
        biases.append(scales[2 * t + 1] * rng.integers(-1, 2, b).astype(float))
    return DenseNet(weights, biases, "relu")


def test_packed_network_saves_loads_and_predicts_the_same(tmp_path):
    rng = np.random.default_rng(0)
    scales = [0.37, 0.11, 0.9, 0.05, 1.3, 0.2]
    net = _ternary_net(rng, [7, 5, 4, 3], scales)
    packed = PackedDenseNet.from_network(net, [-1, 0, 1], scales)
    assert packed.memory_bytes == -(-net.num_parameters * 2 // 8)
    packed.save(tmp_path / "m.npz")
    loaded = PackedDenseNet.load(tmp_path / "m.npz")
    restored = loaded.to_network()
    for a, b in zip(net.weights + net.biases, restored.weights + restored.biases):
        np.testing.assert_array_equal(a, b)
    X = rng.normal(size=(200, 7))
    # Same weights bit for bit (above), same input, same forward calls and shapes.
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    np.testing.assert_allclose(loaded.logits(X), net.logits(X), rtol=1e-12, atol=1e-12)


def test_packing_a_value_outside_the_domain_is_refused():
    net = DenseNet([np.array([[0.5, 0.25]])], [np.zeros(2)])
    with pytest.raises(ValueError, match="not a value"):
        PackedDenseNet.from_network(net, [-1, 0, 1], [0.5, 1.0])


def test_loading_a_foreign_file_is_a_value_error(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a packed combopt network"):
        PackedDenseNet.load(tmp_path / "x.npz")


def test_pretraining_fits_iris_and_pads_missing_classes():
    ds = load_iris()
    net, seconds = pretrain(ds.X_train, ds.y_train, 3, (16, 8), max_iter=2000)
    assert net.error(ds.X_train, ds.y_train) < 5.0 and seconds > 0
    # A slice with classes 0 and 2 only still yields a 3-logit model that never predicts class 1.
    keep = ds.y_train != 1
    lr, _ = pretrain(ds.X_train[keep], ds.y_train[keep], 3)
    assert lr.weights[0].shape == (4, 3) and 1 not in set(lr.predict(ds.X_train).tolist())


def test_download_without_a_network_is_a_clear_oserror(tmp_path):
    from combopt.nn.idx import download_mnist

    # Port 9 (discard) on the loopback refuses at once: the same path as no network.
    with pytest.raises(OSError, match=re.escape("cannot download http://127.0.0.1:9/")):
        download_mnist(tmp_path, mirror="http://127.0.0.1:9/", timeout=5.0)
