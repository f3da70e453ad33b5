"""
A PyTorch model on fftconv's backends
=====================================

:func:`fftconv.torch.convert` swaps every ``torch.nn.Conv2d`` of a model for
:class:`fftconv.torch.Conv2d`, which computes the layer (and its gradients) on an
fftconv backend. This example builds a small CNN in PyTorch, checks that the
converted model computes what PyTorch computes, and times every convolution of it
on every backend — forward, and forward + backward — next to PyTorch's own
``Conv2d``. Which backend wins depends on the layer: that is the comparison the
bridge is for.

The numbers are a quick measurement (three repeats, during a docs build, on a
shared machine), with one thread for every library (BLAS, FFT, PyTorch), so
that what is compared is the algorithms, not thread pools competing for the
cores: read them as ratios within one layer.
"""

import numpy as np
import torch
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

import fftconv
import fftconv.torch as ftorch
from fftconv import style
from fftconv.bench import time_calls

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),           # stem
    torch.nn.Conv2d(16, 16, 3, padding=1, groups=16), torch.nn.ReLU(),  # depthwise
    torch.nn.Conv2d(16, 16, 1), torch.nn.ReLU(),                     # pointwise
    torch.nn.Conv2d(16, 16, 9, padding=4), torch.nn.ReLU(),          # large kernel
    torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 10))
x = torch.randn(2, 3, 32, 32)
reference = model(x)

# %%
# Swap the convolutions, check the result
# ---------------------------------------
# ``convert`` changes the layers in place (same parameters), so the same model
# object now runs on fftconv; ``revert`` brings PyTorch's layers back.

ftorch.convert(model, backend="fft")
print(model)
with torch.no_grad():
    print("max |fftconv − torch|:", float((model(x) - reference).abs().max()))

# %%
# Time each layer on each backend
# -------------------------------
# A forward hook records each convolution's input; each layer is then timed on
# its own input, every backend and PyTorch side by side in interleaved rounds.

convs = [(f"{i}: {m.kernel_size[0]}×{m.kernel_size[1]}, {m.in_channels}→{m.out_channels}"
          + (f", groups {m.groups}" if m.groups > 1 else ""), m)
         for i, m in enumerate(model) if isinstance(m, torch.nn.Conv2d)]
inputs = {}
hooks = [m.register_forward_hook(lambda m, args, out: inputs.__setitem__(m, args[0].detach()))
         for _, m in convs]
with torch.no_grad():
    model(x)
for hook in hooks:
    hook.remove()

backends = fftconv.available_backends()
passes = ("forward", "forward+backward")


def timed(layer, inp, backend, backward):
    """A call running ``layer`` on ``inp``: on ``backend``, or as PyTorch's Conv2d."""
    inp = inp.clone().requires_grad_(backward)

    def run():
        if backend == "torch":                             # PyTorch's own layer code
            out = torch.nn.Conv2d._conv_forward(layer, inp, layer.weight, layer.bias)
        else:
            layer.backend = backend
            out = layer(inp)
        if backward:
            out.sum().backward()

    def call():
        if backward:
            run()
        else:
            with torch.no_grad():
                run()
    return call


seconds = {p: {} for p in passes}
engine = fftconv.fftlib.get_fft_engine()
torch_threads = torch.get_num_threads()
torch.set_num_threads(1)
with threadpool_limits(limits=1), fftconv.fftlib.set_fft_engine(engine.name, threads=1):
    for p in passes:
        for label, layer in convs:
            calls = {b: timed(layer, inputs[layer], b, p != "forward") for b in
                     [*backends, "torch"]}
            seconds[p][label] = time_calls(calls, repeats=3)
            print(f"{p:16s} {label:28s} " + "  ".join(f"{b} {t * 1e3:6.2f} ms"
                                                     for b, t in seconds[p][label].items()))
torch.set_num_threads(torch_threads)

# %%
# The figure
# ----------
# Per layer, time relative to PyTorch (log scale, below 1 is faster than
# PyTorch); the fastest fftconv backend of each layer is marked.

names = [*backends, "torch"]
fig = Figure(figsize=(11, 4.2), layout="constrained")
axes = fig.subplots(1, 2, sharey=True)
width = 0.8 / len(names)
for ax, p in zip(axes, passes):
    labels = list(seconds[p])
    for j, name in enumerate(names):
        ratios = [seconds[p][label][name] / seconds[p][label]["torch"] for label in labels]
        ax.bar(np.arange(len(labels)) + (j - (len(names) - 1) / 2) * width, ratios, width,
               label=name, color=style.backend_colour(name, j))
    for i, label in enumerate(labels):
        best = min(backends, key=seconds[p][label].get)
        j = names.index(best)
        ax.annotate("★", (i + (j - (len(names) - 1) / 2) * width,
                          seconds[p][label][best] / seconds[p][label]["torch"]),
                    ha="center", va="bottom", fontsize=9)
    ax.axhline(1.0, color=style.backend_colour("torch"), lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_title(f"{p}, batch of {x.shape[0]} 32×32 images, one thread")
    ax.grid(True, axis="y", which="both", alpha=0.3)
axes[0].set_ylabel("time / PyTorch's Conv2d (median of 3)")
axes[1].legend(fontsize=8)

# %%
# Back to PyTorch's layers
# ------------------------

ftorch.revert(model)
print(type(model[0]))
