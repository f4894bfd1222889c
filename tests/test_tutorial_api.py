"""API points the public tutorials use (tests/test_snippets_*.py), each as a rule of its own:
factories take size= (d2l's torch.randn(size=(1, 1, 28, 28))), matmul takes torch's keyword
names (torch.matmul(input=..., other=...) in "Learning PyTorch with Examples"), matmul and mul
write into out= ("Learn the Basics: Tensors"), and
torch.accelerator / set_default_device answer as on a machine without an accelerator (the
tutorials' current device choice). Torch-free tests of the rules, then the same against torch.
"""
import numpy as np
import pytest

import tinygrad_conv as tc

SIZED_FACTORIES = ["zeros", "ones", "empty", "rand", "randn"]


@pytest.mark.parametrize("name", SIZED_FACTORIES)
def test_factories_take_the_size_as_a_keyword(name):
    factory = getattr(tc, name)
    assert factory(size=(2, 3)).shape == (2, 3)
    assert factory(size=[4]).shape == (4,)
    assert factory(size=(1, 1, 28, 28), dtype=tc.float64).dtype == np.float64
    assert factory(size=()).shape == ()


@pytest.mark.parametrize("name", SIZED_FACTORIES)
def test_a_size_given_twice_is_refused(name):
    with pytest.raises(TypeError, match=r"size is given twice.*give one of them"):
        getattr(tc, name)(2, 3, size=(2, 3))


def test_matmul_takes_torchs_keyword_names():
    a, b = tc.tensor([[1.0, 2.0], [3.0, 4.0]]), tc.tensor([1.0, -1.0])
    np.testing.assert_array_equal(tc.matmul(input=a, other=b).data, (a @ b).data)
    np.testing.assert_array_equal(tc.matmul(a, other=b).data, [-1.0, -1.0])


def test_out_receives_the_result_and_is_returned():
    a = tc.tensor([[1.0, 2.0], [3.0, 4.0]])
    y, z = tc.zeros(2, 2), tc.zeros(2, 2)
    assert tc.matmul(a, a.T, out=y) is y and tc.mul(a, a, out=z) is z
    np.testing.assert_array_equal(y.data, (a @ a.T).data)
    np.testing.assert_array_equal(z.data, (a * a).data)
    assert z._version > 0                                 # a graph that saved z sees the write


def test_out_is_cast_where_an_in_place_write_could_be():
    i = tc.tensor([1, 2])
    f = tc.zeros(2)
    np.testing.assert_array_equal(tc.mul(i, i, out=f).data, [1.0, 4.0])
    with pytest.raises(RuntimeError, match="Float can't be cast to the desired output type Long"):
        tc.mul(tc.ones(2), tc.ones(2), out=tc.zeros(2, dtype=tc.long))
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float32, but got "
                                           "float64"):
        tc.matmul(tc.ones(2, 2), tc.ones(2, 2), out=tc.zeros(2, 2, dtype=tc.float64))


def test_out_of_another_shape_is_resized_with_a_warning():
    z = tc.zeros(3)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[3\]"):
        tc.mul(tc.ones(2, 2), 2.0, out=z)
    assert z.shape == (2, 2)


def test_out_refuses_a_result_that_requires_grad():
    w = tc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                                           "differentiation"):
        tc.mul(w, w, out=tc.zeros(2))
    with tc.no_grad():
        np.testing.assert_array_equal(tc.mul(w, w, out=tc.zeros(2)).data, [1.0, 1.0])
    with pytest.raises(TypeError, match="'out' must be a Tensor"):
        tc.mul(tc.ones(2), 2.0, out=np.zeros(2))


def test_no_accelerator_so_the_tutorials_pick_the_cpu():
    assert tc.accelerator.is_available() is False
    assert tc.accelerator.current_accelerator() is None
    assert tc.accelerator.device_count() == 0
    device = (tc.accelerator.current_accelerator().type if tc.accelerator.is_available()
              else "cpu")
    assert device == "cpu"


@pytest.mark.parametrize("device", ["cpu", None, tc.device("cpu"), "cpu:0"])
def test_the_default_device_can_be_the_cpu(device):
    tc.set_default_device(device)
    assert tc.get_default_device() == tc.device("cpu")
    assert tc.zeros(2).device == tc.device("cpu")


@pytest.mark.parametrize("device", ["cuda", "mps", tc.device("cuda", 0)])
def test_a_gpu_default_device_is_refused_naming_the_cpu(device):
    with pytest.raises(RuntimeError, match="CPU only.*set_default_device"):
        tc.set_default_device(device)


# --- against torch ------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("name", SIZED_FACTORIES)
def test_size_keyword_as_torch(name):
    torch = pytest.importorskip("torch")
    for kwargs in ({"size": (2, 3)}, {"size": [4]}, {"size": (1, 1, 28, 28),
                                                      "dtype": "float64"}):
        dtype = kwargs.pop("dtype", None)
        ours = getattr(tc, name)(**kwargs, **({"dtype": getattr(tc, dtype)} if dtype else {}))
        theirs = getattr(torch, name)(**kwargs, **({"dtype": getattr(torch, dtype)} if dtype
                                                   else {}))
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    with pytest.raises(TypeError):
        getattr(torch, name)(2, 3, size=(2, 3))


@pytest.mark.torch
def test_matmul_keywords_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    ours = tc.matmul(input=tc.tensor(x), other=tc.tensor(y))
    theirs = torch.matmul(input=torch.tensor(x), other=torch.tensor(y))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:.*resized:UserWarning")
def test_out_as_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    for fn, args in (("matmul", (a, a.T)), ("mul", (a, a))):     # mul resizes (2, 2) to (2, 3)
        ours, theirs = tc.zeros(2, 2), torch.zeros(2, 2)
        assert getattr(tc, fn)(*map(tc.tensor, args), out=ours) is ours
        assert getattr(torch, fn)(*map(torch.tensor, args), out=theirs) is theirs
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    for lib in (tc, torch):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            lib.mul(lib.ones(2), lib.ones(2), out=lib.zeros(2, dtype=lib.long))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            w = lib.ones(2, requires_grad=True)
            lib.mul(w, w, out=lib.zeros(2))


@pytest.mark.torch
def test_accelerator_and_default_device_as_torch_on_a_cpu_machine():
    torch = pytest.importorskip("torch")
    if torch.accelerator.is_available():
        pytest.skip("torch sees an accelerator here; tinygrad_conv never does")
    assert tc.accelerator.is_available() == torch.accelerator.is_available()
    assert tc.accelerator.current_accelerator() == torch.accelerator.current_accelerator()
    assert tc.accelerator.device_count() == torch.accelerator.device_count()
    torch.set_default_device("cpu")
    tc.set_default_device("cpu")
    assert str(tc.get_default_device()) == str(torch.get_default_device())
