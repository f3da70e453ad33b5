"""
LeNet-5, layer by layer
=======================

LeNet-5 (LeCun et al. 1998) in fftconv's numpy trainer: C1 six 5×5
filters on the 32×32 input, S2 trainable 2×2 subsampling (a coefficient and a bias
per map, then a squashing function), C3 sixteen 5×5 filters that each read only
some of S2's maps (the connection table), S4, C5 120 filters that cover the whole
5×5 map (a fully connected layer in convolutional form), F6 84 units and ten
outputs. This example trains it briefly on the embedded digits and follows one
digit through the layers.
"""

import numpy as np
from matplotlib.figure import Figure

from fftconv import nn

x, y = nn.load_digits()
x_train, x_test, y_train, y_test = nn.train_test_split(x, y, 0.2, seed=0)
model = nn.lenet5(partial_connections=True, seed=0)
print(nn.summary(model, (1, 1, 32, 32)))

# %%
# Two epochs on the digits
# ------------------------
# About a second per epoch on two cores; ``fftconv train`` and ``fftconv demo``
# train longer.

history = nn.fit(model, x_train, y_train, epochs=2, batch_size=32,
                 validation_data=(x_test, y_test), seed=0, progress=False)
print("test accuracy per epoch:", [f"{a:.3f}" for a in history.val_accuracy])

# %%
# One digit through the layers
# ----------------------------
# ``named_children`` yields the layers in order, so the activations can be
# collected on the way (in evaluation mode).

model.eval()
activations = {}
a = x_test[:1]
for name, layer in model.named_children():
    a = layer(a)
    activations[name] = a
print({name: act.shape for name, act in activations.items()})

# %%
# The figure
# ----------

table = nn.lenet5_connection_table()
fig = Figure(figsize=(11, 7.5), layout="constrained")
rows = fig.subfigures(4, 1, height_ratios=[1.2, 1, 1.6, 1.3])
ax = rows[0].subplots(1, 8)
ax[0].imshow(x_test[0, 0], cmap="gray")
ax[0].set_title(f"input (label {y_test[0]})", fontsize=8)
for o in range(6):
    ax[o + 1].imshow(model["c1"].weight.data[o, 0], cmap="RdBu_r")
    ax[o + 1].set_title(f"C1 filter {o}", fontsize=8)
ax[7].imshow(table, cmap="Greys", aspect="auto")
ax[7].set_title("C3 table (16×6)", fontsize=8)
ax[7].set_xlabel("S2 map", fontsize=7)
ax[7].set_ylabel("C3 map", fontsize=7)
ax = rows[1].subplots(1, 12)
for o in range(6):
    ax[o].imshow(activations["c1_act"][0, o], cmap="gray")
    ax[6 + o].imshow(activations["s2_act"][0, o], cmap="gray")
ax[0].set_title("C1 maps (28×28) →", fontsize=8, loc="left")
ax[6].set_title("S2 maps (14×14) →", fontsize=8, loc="left")
ax = rows[2].subplots(2, 16)
for o in range(16):
    ax[0, o].imshow(activations["c3_act"][0, o], cmap="gray")
    ax[1, o].imshow(activations["s4_act"][0, o], cmap="gray")
ax[0, 0].set_title("C3 maps (10×10) →", fontsize=8, loc="left")
ax[1, 0].set_title("S4 maps (5×5) →", fontsize=8, loc="left")
ax = rows[3].subplots(1, 3, width_ratios=[4, 3, 1.4])
ax[0].bar(range(120), activations["c5_act"][0].ravel(), color="C0")
ax[0].set_title("C5 (120 units)", fontsize=8)
ax[1].bar(range(84), activations["f6_act"][0].ravel(), color="C1")
ax[1].set_title("F6 (84 units)", fontsize=8)
probs = nn.softmax(activations["output"])[0]
ax[2].barh(range(10), probs, color="C2")
ax[2].set_yticks(range(10))
ax[2].invert_yaxis()
ax[2].set_title("output: P(digit)", fontsize=8)
for a in fig.axes[:-3]:
    a.set_xticks([])
    a.set_yticks([])
fig.suptitle("LeNet-5 after two epochs: one test digit through the network")
