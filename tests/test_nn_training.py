"""The paper's pipeline end to end: pretraining, Algorithm 1, CoNNTrA, packing, CLI."""

import itertools
import json
import os

import numpy as np
import pytest

from combopt.cli import main
from combopt.nn.datasets import load_digits, load_iris, load_mnist
from combopt.nn.training import scaled_domain, train_conntra

needs_data = pytest.mark.skipif(
    not os.environ.get("COMBOPT_DATA"),
    reason="COMBOPT_DATA is not set (published MNIST files needed)",
)


@pytest.fixture(scope="module")
def iris_record():
    return train_conntra(load_iris(0), (16, 8), max_iterations=4, segments=4, pretrain_iter=2000,
                         seed=0)


def test_iris_errors_fall_during_training(iris_record):
    curve = iris_record.curve
    assert [c["percent"] for c in curve] == [0.0, 25.0, 50.0, 75.0, 100.0]
    losses = [c["loss"] for c in curve]
    # Algorithm 2 never goes uphill: the training loss is non-increasing and drops overall.
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(losses))
    assert losses[-1] < 0.5 * losses[0]
    assert curve[-1]["train_error"] <= curve[0]["train_error"]
    assert iris_record.train_error <= 5.0 and iris_record.val_error <= 10.0


def test_iris_memory_is_the_papers_and_32x_below_float64(iris_record):
    assert iris_record.config["n_parameters"] == 4 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3 == 243
    assert iris_record.memory_kb == 0.061  # ceil(243 * 2 / 8) bytes
    assert iris_record.float_memory_kb == 243 * 8 / 1000
    assert iris_record.float_memory_kb / iris_record.memory_kb > 31.8


def test_reported_errors_come_from_the_packed_model(iris_record):
    # The final curve point is the float evaluation of the solver's answer; the
    # headline figures are the packed model loaded back from disk: they agree exactly,
    # because both run the same forward pass on the same weights bit for bit.
    assert iris_record.train_error == iris_record.curve[-1]["train_error"]
    assert iris_record.val_error == iris_record.curve[-1]["val_error"]
    assert iris_record.packed_file_bytes > iris_record.memory_kb * 1000


def test_record_is_json_with_the_issue_fields(iris_record):
    data = json.loads(json.dumps(iris_record.to_dict()))
    for key in ("task", "train_error", "val_error", "memory_kb", "float_memory_kb", "seconds",
                "pretrain_seconds"):
        assert key in data
    assert set(data["baseline"]) >= {"train_error", "val_error", "memory_kb", "seconds"}
    assert data["config"]["split"].startswith("scikit-learn iris, stratified 120 train / 30")


def test_squared_error_and_a_wider_domain_train_digits():
    rec = train_conntra(load_digits(), (), max_iterations=2, segments=2, domain=(-2, -1, 0, 1, 2),
                        loss="squared", seed=1)
    assert rec.config["bits_per_weight"] == 3 and rec.memory_kb == -(-650 * 3 // 8) / 1000
    assert rec.curve[-1]["loss"] < rec.curve[0]["loss"]
    assert rec.val_error < 15.0


def test_scaled_domain_matches_the_layout():
    dom = scaled_domain([3, 2, 2], [-1, 0, 1], [1.0, 2.0, 3.0, 4.0])
    # 3*2 weights, 2 biases, 2*2 weights, 2 biases.
    assert [dom.values_of(i)[-1] for i in (0, 5, 6, 7, 8, 11, 12, 13)] == [1, 1, 2, 2, 3, 3, 4, 4]
    with pytest.raises(ValueError, match="need 4 scales"):
        scaled_domain([3, 2, 2], [-1, 0, 1], [1.0])


@pytest.mark.parametrize(
    "kwargs,message",
    [({"max_iterations": 0}, "max_iterations"), ({"max_iterations": 2, "segments": 3}, "segments")],
)
def test_bad_budgets_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_conntra(load_iris(), (), **kwargs)


def test_cli_train_iris_json_and_plot(tmp_path, capsys):
    png = tmp_path / "curve.png"
    code = main(["train", "iris", "--max-iterations", "2", "--segments", "2", "--seed", "1",
                 "--json", "--plot", str(png)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["task"] == "iris" and data["memory_kb"] == 0.061 and data["paper"]["table"] == "III"
    assert data["baseline"]["memory_kb"] == 1.944
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_train_table_output(capsys):
    # "--domain -2,-1,0,1,2" (a value starting with "-") is the issue's spelling.
    assert main(["train", "digits", "--max-iterations", "1", "--domain", "-2,-1,0,1,2"]) == 0
    out = capsys.readouterr().out
    assert "backprop (float64)" in out and "CoNNTrA (packed)" in out
    assert "3 bits per weight" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "iris", "--domain", "1,1"], "at least two distinct"),
        (["train", "iris", "--domain", "a,b"], "comma-separated"),
        (["train", "iris", "--n-train", "10"], "MNIST tasks only"),
        (["train", "mnist-lenet", "--batch-size", "100"], "applies to the dense tasks"),
        (["train", "iris", "--batch-size", "0"], "batch-size"),
        (["train", "mnist-cnn"], "invalid choice"),
    ],
)
def test_cli_bad_input_exits_2(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


@needs_data
def test_mnist_slice_logistic_regression_improves_on_discretisation():
    data = load_mnist(n_train=2000, n_val=500)
    rec = train_conntra(data, (), max_iterations=2, segments=2, pretrain_iter=50)
    assert rec.curve[-1]["loss"] < rec.curve[0]["loss"]
    assert rec.train_error < rec.discretized["train_error"]
    assert rec.memory_kb == 1.963 and rec.float_memory_kb == 62.8


@needs_data
def test_cli_mnist_mlp_on_a_slice(capsys):
    argv = ["train", "mnist-mlp", "--n-train", "1000", "--n-val", "200", "--max-iterations", "1",
            "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["sizes"] == [784, 32, 10]
    assert data["memory_kb"] == -(-(785 * 32 + 33 * 10) * 2 // 8) / 1000
    assert data["curve"][-1]["loss"] < data["curve"][0]["loss"]


def test_refit_output_scales_never_raises_the_loss_and_stays_in_the_domain():
    from combopt.nn.models import pretrain
    from combopt.nn.training import _discretize, refit_output_scales
    from combopt.objectives import DenseNetObjective

    data = load_iris(2)
    net, _ = pretrain(data.X_train, data.y_train, 3, (6,), max_iter=500)
    obj = DenseNetObjective(data.X_train, data.y_train, (6,))
    omega = np.array([-1.0, 0.0, 1.0])
    scales, x = _discretize(net, omega)
    # A badly chosen output scale (x 3) leaves room for the re-fit to win.
    last = obj.layer_slices[-1]
    scales[-2] *= 3.0
    x[last.start : last.start + 18] *= 3.0
    new_scales, new_x = refit_output_scales(obj, x, scales, omega)
    assert obj.energy(new_x) < obj.energy(x)
    np.testing.assert_array_equal(new_scales[:-2], scales[:-2])
    np.testing.assert_array_equal(new_x[: last.start], x[: last.start])
    scaled_domain(obj.sizes, omega, new_scales).index_of(new_x)  # raises if off the domain
    # Refitting an optimum again changes nothing it cannot improve.
    _, again_x = refit_output_scales(obj, new_x, new_scales, omega)
    assert obj.energy(again_x) <= obj.energy(new_x)


def test_cli_refit_scales_is_recorded(capsys):
    argv = ["train", "iris", "--max-iterations", "2", "--segments", "2", "--refit-scales", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["refit_scales"] is True
    losses = [c["loss"] for c in data["curve"]]
    assert losses[-1] < losses[0]


def test_minibatch_search_still_reports_full_errors():
    data = load_digits()
    rec = train_conntra(data, (), max_iterations=2, segments=2, batch_size=300, seed=2)
    again = train_conntra(data, (), max_iterations=2, segments=2, batch_size=300, seed=2)
    assert rec.config["batch_size"] == 300
    assert rec.curve[-1]["loss"] < rec.curve[0]["loss"]
    # Curve points are measured on all 1437 training images, not the batch.
    assert rec.curve[-1]["train_error"] == pytest.approx(rec.train_error)
    assert [c["loss"] for c in rec.curve] == [c["loss"] for c in again.curve]
    with pytest.raises(ValueError, match="batch_size"):
        train_conntra(data, (), batch_size=0)


@needs_data
def test_cli_mnist_lenet_on_a_slice(capsys):
    argv = ["train", "mnist-lenet", "--n-train", "400", "--n-val", "100", "--max-iterations", "1",
            "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["task"] == "mnist-lenet" and data["paper"]["table"] == "II"
    assert data["memory_kb"] == 15.427 and data["config"]["n_parameters"] == 61706
    assert data["curve"][-1]["loss"] < data["curve"][0]["loss"]
    assert data["pretrain_seconds"] > 0 and data["baseline"]["memory_kb"] == pytest.approx(493.648)


def test_from_scratch_starts_from_random_ternary_codes():
    from combopt.nn.tasks import run_task

    record, _ = run_task("iris", max_iterations=4, segments=2, from_scratch=True, ste_epochs=50)
    rec = record.to_dict()
    assert rec["config"]["from_scratch"] is True
    # The random start is far from the float network, and the search improves on it.
    assert rec["curve"][0]["train_error"] > rec["baseline"]["train_error"]
    assert rec["curve"][-1]["loss"] < rec["curve"][0]["loss"]
    assert set(rec["ste"]) >= {"train_error", "val_error", "memory_kb", "seconds"}
    assert rec["ste"]["memory_kb"] == rec["memory_kb"]  # both 2 bits per parameter
