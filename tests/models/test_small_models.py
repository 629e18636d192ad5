import pytest
import torch

from datadiet.models import count_parameters, create_model


def linear(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def conv(c_in: int, c_out: int, kernel_elements: int, bias: bool) -> int:
    return c_in * c_out * kernel_elements + (c_out if bias else 0)


def test_small_cnn_count_matches_its_layers_and_is_about_042m():
    expected = (
        conv(1, 32, 9, bias=False) + 2 * 32
        + conv(32, 64, 9, bias=False) + 2 * 64
        + linear(64 * 7 * 7, 128, bias=False) + 2 * 128 + linear(128, 10)
    )  # fmt: skip
    count = count_parameters(create_model("small_cnn", 10, 1, input_shape=(1, 28, 28)))
    assert count == expected
    assert abs(count - 420_000) < 42_000


def test_basic_cnn_count_matches_its_layers():
    expected = conv(3, 32, 25, bias=True) + conv(32, 64, 25, bias=True) + linear(64 * 8 * 8, 128) + linear(128, 10)
    assert count_parameters(create_model("basic_cnn", 10, 3, input_shape=(3, 32, 32))) == expected


def test_cnn1d_count_matches_its_layers():
    expected = conv(1, 32, 5, bias=True) + 2 * conv(32, 32, 3, bias=True) + linear(32 * 5, 10)
    assert count_parameters(create_model("cnn1d", 10, 1, input_shape=(1, 40))) == expected


def test_mlp_count_matches_its_layers():
    expected = linear(3 * 32 * 32, 256) + linear(256, 256) + linear(256, 10)
    assert count_parameters(create_model("mlp", 10, 3, input_shape=(3, 32, 32))) == expected


@pytest.mark.parametrize(
    "name, input_shape",
    [("small_cnn", (1, 28, 28)), ("basic_cnn", (3, 32, 32)), ("cnn1d", (1, 40)), ("mlp", (1, 28, 28))],
)
def test_width_multiplier_shrinks_counts(name, input_shape):
    counts = [
        count_parameters(create_model(name, 10, input_shape[0], width=w, input_shape=input_shape))
        for w in (0.25, 0.5, 1.0, 2.0)
    ]
    assert counts == sorted(counts) and len(set(counts)) == 4


@pytest.mark.parametrize(
    "name, input_shape",
    [
        ("small_cnn", (1, 8, 8)),
        ("small_cnn", (3, 31, 17)),
        ("basic_cnn", (1, 28, 28)),
        ("cnn1d", (3, 37)),
        ("mlp", (1, 40)),
        ("mlp", (2, 5, 5)),
    ],
)
def test_forward_shape_on_other_input_shapes(name, input_shape):
    model = create_model(name, 4, input_shape[0], input_shape=input_shape)
    assert model(torch.randn(3, *input_shape)).shape == (3, 4)


@pytest.mark.slow
def test_cnn1d_learns_mnist1d_in_a_short_training():
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())  # default split: 4000 train, 1000 test
    x, xt = (torch.tensor(data[k], dtype=torch.float32)[:, None] for k in ("x", "x_test"))
    y, yt = torch.tensor(data["y"]), torch.tensor(data["y_test"])
    mean, std = x.mean(), x.std()
    x, xt = (x - mean) / std, (xt - mean) / std
    torch.manual_seed(0)
    model = create_model("cnn1d", 10, 1, input_shape=(1, 40))
    steps = 1000
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps)
    for _ in range(steps):
        batch = torch.randint(0, len(x), (100,))
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    assert accuracy > 0.85
