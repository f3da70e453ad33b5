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

from fftconv import nn, style

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
# Grey for the digit; the signed map, centred on 0, for the filters (one scale for
# all six) and for the activations, which the squashing function keeps within
# ±1.7159 (LeCun et al. 1998, appendix A).
squash = 1.7159
signed = {"cmap": style.SIGNED_CMAP, "vmin": -squash, "vmax": squash}
images = []                                         # axes that show an image
fig = Figure(figsize=(12, 8), layout="constrained")
rows = fig.subfigures(4, 1, height_ratios=[1.2, 1, 1.6, 1.3])
ax = rows[0].subplots(1, 8)
digit = ax[0].imshow(x_test[0, 0], cmap=style.IMAGE_CMAP, vmin=0, vmax=1)
bar = style.add_colorbar(ax[0], digit)
bar.set_label("intensity", fontsize=8)
bar.ax.tick_params(labelsize=7)
ax[0].set_title(f"input (label {y_test[0]})", fontsize=8)
filters = model["c1"].weight.data[:, 0]
limit = float(np.abs(filters).max())
for o in range(6):
    shown = ax[o + 1].imshow(filters[o], cmap=style.SIGNED_CMAP, vmin=-limit, vmax=limit)
    ax[o + 1].set_title(f"C1 filter {o}", fontsize=8)
rows[0].colorbar(shown, ax=ax[1:7], fraction=0.02, pad=0.01, aspect=10).set_label(
    "weight (unitless)", fontsize=8)
ax[7].imshow(table, cmap=style.IMAGE_CMAP, vmin=0, vmax=1, aspect="auto")
ax[7].set_title("C3 table (16×6,\nwhite: connected)", fontsize=8)
ax[7].set_xlabel("S2 map", fontsize=7)
ax[7].set_ylabel("C3 map", fontsize=7)
ax[7].tick_params(labelsize=6)
images += list(ax[:7])
ax = rows[1].subplots(1, 12)
for o in range(6):
    ax[o].imshow(activations["c1_act"][0, o], **signed)
    shown = ax[6 + o].imshow(activations["s2_act"][0, o], **signed)
ax[0].set_title("C1 maps (28×28) →", fontsize=8, loc="left")
ax[6].set_title("S2 maps (14×14) →", fontsize=8, loc="left")
rows[1].colorbar(shown, ax=ax, fraction=0.02, pad=0.01, aspect=10).set_label(
    "activation (unitless)", fontsize=8)
images += list(ax)
ax = rows[2].subplots(2, 16)
for o in range(16):
    ax[0, o].imshow(activations["c3_act"][0, o], **signed)
    shown = ax[1, o].imshow(activations["s4_act"][0, o], **signed)
ax[0, 0].set_title("C3 maps (10×10) →", fontsize=8, loc="left")
ax[1, 0].set_title("S4 maps (5×5) →", fontsize=8, loc="left")
rows[2].colorbar(shown, ax=ax, fraction=0.02, pad=0.01, aspect=15).set_label(
    "activation (unitless)", fontsize=8)
images += list(ax.flat)
ax = rows[3].subplots(1, 3, width_ratios=[4, 3, 1.4])
ax[0].bar(range(120), activations["c5_act"][0].ravel(), color=style.line_colour(0))
ax[0].set_title("C5 (120 units)", fontsize=8)
ax[1].bar(range(84), activations["f6_act"][0].ravel(), color=style.line_colour(1))
ax[1].set_title("F6 (84 units)", fontsize=8)
for a in ax[:2]:
    a.set_ylim(-squash, squash)
    a.set_xlabel("unit", fontsize=8)
ax[0].set_ylabel("activation (unitless)", fontsize=8)
probs = nn.softmax(activations["output"])[0]
ax[2].barh(range(10), probs, color=style.line_colour(2))
ax[2].set_yticks(range(10))
ax[2].set_xlim(0, 1)
ax[2].invert_yaxis()
ax[2].set_xlabel("probability", fontsize=8)
ax[2].set_ylabel("digit", fontsize=8)
ax[2].set_title("output: P(digit)", fontsize=8)
for a in ax:
    a.tick_params(labelsize=7)
for a in images:
    a.set_xticks([])
    a.set_yticks([])
fig.suptitle("LeNet-5 after two epochs: one test digit through the network")
