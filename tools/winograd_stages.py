"""Where the Winograd backend's forward spends its time, stage by stage, beside the
BLAS's own GEMM throughput and PyTorch: the measurement behind the limits stated in
``docs/backends.rst`` (*Winograd: where the time goes*).

A research script, not part of ``make test`` (it reads the clock)::

    python tools/winograd_stages.py [--layer N=8,C=64,H=56,W=56,O=64,K=3,P=1 ...]
        [--tile M] [--repeats 9] [--threads 2]

Per layer, on one thread, each block of the backend's own plan runs its stages
through the backend's own methods, each timed on its own: the kernel transform
``U = G g Gᵀ`` (once per call), the input transform ``V = Bᵀ d B`` (with the
channels-last padded block it reads), the per-position products ``M_ξ = V_ξ U_ξᵀ``
and the output transform ``Y = Aᵀ M A`` (written into the output); then the
backward's stages the same way (:func:`backward_stage_seconds`). Medians over
``--repeats`` calls, in ms. Beside them: the products' GFLOP/s against the BLAS's
on a 1024³ float32 GEMM, the whole forward and ``torch.nn.functional.conv2d`` at
``--threads`` (side by side, :func:`fftconv.bench.time_calls`), and the bound the
products alone set: their time at the 1024³ throughput, split over the threads.

Run it with OpenBLAS's AVX-512 kernels where the machine pins AVX2 ones
(:mod:`fftconv.blas`): ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ...``.
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

import fftconv
from fftconv.backends.winograd import WinogradBackend, set_tile_size
from fftconv.bench import parse_layer, time_calls
from fftconv.blas import kernel_advice, openblas_kernels

STAGES = ("kernel", "input", "products", "output")
BACKWARD_STAGES = ("dy", "dV", "dx", "V", "dU", "kernel")

#: ResNet-18's four 3×3 stages at batch 8, and a 3-channel 5×5 stem.
DEFAULT_LAYERS = ("N=8,C=64,H=56,W=56,O=64,K=3,P=1", "N=8,C=128,H=28,W=28,O=128,K=3,P=1",
                  "N=8,C=256,H=14,W=14,O=256,K=3,P=1", "N=8,C=512,H=7,W=7,O=512,K=3,P=1",
                  "N=64,C=3,H=32,W=32,O=16,K=5,P=2")


def _timed(spent: dict, stage: str, fn, *args):
    """``fn(*args)``, its wall time added to ``spent[stage]``."""
    start = time.perf_counter()
    result = fn(*args)
    spent[stage] += time.perf_counter() - start
    return result


def stage_seconds(backend: WinogradBackend, x, w, spec) -> dict:
    """One forward on the calling thread, ``{stage: seconds}``, through the
    backend's own stage methods in the blocks of its own plan."""
    plan = backend.plan(spec)
    y = np.empty(spec.output_shape, dtype=spec.dtype)
    spent = dict.fromkeys(STAGES, 0.0)
    u = _timed(spent, "kernel", backend._kernel_transform, w, plan)
    for block in plan.blocks():
        v = _timed(spent, "input", backend._input_transform, x, plan, *block)
        m = _timed(spent, "products", backend._products, u, v, plan)
        _timed(spent, "output", backend._output_transform, m, plan, y, *block)
    return spent


def backward_stage_seconds(backend: WinogradBackend, dy, x, w, spec) -> dict:
    """One backward (both gradients) on the calling thread, ``{stage: seconds}``,
    as :meth:`WinogradBackend.backward` runs it on one thread: per block ``dM``
    from ``dy`` (``dy``), ``dV = dM U`` (``dV``), its input adjoint added into
    ``dx`` (``dx``), ``V`` rebuilt (``V``) and ``dU += dMᵀ V`` (``dU``); ``U``
    and ``dw = Gᵀ dU G`` once per call (``kernel``)."""
    plan = backend.plan(spec)
    dx = np.zeros(spec.input_shape, dtype=spec.dtype)
    spent = dict.fromkeys(BACKWARD_STAGES, 0.0)
    u = _timed(spent, "kernel", backend._kernel_transform, w, plan)
    du = None
    for block in plan.blocks():
        dm = _timed(spent, "dy", backend._output_adjoint, dy, plan, *block)
        dv = _timed(spent, "dV", backend._dv, dm, u, plan)
        _timed(spent, "dx", lambda: backend._add_strip(
            dx, backend._input_adjoint(dv, plan, *block), plan, block))
        v = _timed(spent, "V", backend._input_transform, x, plan, *block)
        du = _timed(spent, "dU", backend._du, dm, v, plan, du, "du0")
    _timed(spent, "kernel", backend._kernel_adjoint, du, plan)
    return spent


def gemm_gflops(size: int = 1024, repeats: int = 9) -> float:
    """The BLAS's float32 GEMM throughput on one thread, ``size³``, median."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty((size, size), np.float32)
    with threadpool_limits(1):
        seconds = time_calls({"gemm": lambda: np.matmul(a, b, out=out)}, repeats)["gemm"]
    return 2 * size ** 3 / seconds / 1e9


def measure(text: str, tile, repeats: int, threads: int, peak: float) -> dict:
    layer = parse_layer(text)
    spec = layer.spec("float32")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(spec.input_shape, dtype=np.float32)
    w = rng.standard_normal(spec.weight_shape, dtype=np.float32)
    backend = fftconv.get_backend("winograd")
    with set_tile_size(tile) if tile else nullcontext():
        plan = backend.plan(spec)
        with threadpool_limits(1):
            stage_seconds(backend, x, w, spec)                       # warm the scratch
            runs = [stage_seconds(backend, x, w, spec) for _ in range(repeats)]
            dy = rng.standard_normal(spec.output_shape, dtype=np.float32)
            backward_stage_seconds(backend, dy, x, w, spec)
            back = [backward_stage_seconds(backend, dy, x, w, spec) for _ in range(repeats)]
        stages = {k: float(np.median([r[k] for r in runs])) for k in STAGES}
        backward = {k: float(np.median([r[k] for r in back])) for k in BACKWARD_STAGES}
        calls = {"winograd": lambda: fftconv.conv2d(x, w, backend="winograd", **layer.kwargs)}
        try:
            import torch
            torch.set_num_threads(threads)
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)

            def peer():
                with torch.no_grad():
                    torch.nn.functional.conv2d(tx, tw, **layer.kwargs)
            calls["torch"] = peer
        except ImportError:
            pass
        with threadpool_limits(threads):
            whole = time_calls(calls, repeats)
    flops = 2.0 * plan.positions * spec.n * plan.tiles * spec.c_in_per_group * spec.c_out
    return {"layer": layer.describe(), "tile": f"F({plan.m_h}x{plan.m_w})", "stages": stages,
            "backward": backward,
            "products_gflops": flops / stages["products"] / 1e9,
            "products_bound": flops / (peak * 1e9) / threads, "whole": whole}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", action="append", help="as fftconv bench --layer "
                        "(default: the four ResNet-18 3x3 stages and a 5x5 stem)")
    parser.add_argument("--tile", type=int, default=None, help="force F(m, r) (default: "
                        "the plan's choice)")
    parser.add_argument("--repeats", type=int, default=9, help="calls per median (default 9)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the whole "
                        "forward and of torch (default 2; stages: 1)")
    args = parser.parse_args(argv)
    print(f"OpenBLAS kernels: {', '.join(openblas_kernels()) or 'no OpenBLAS'}")
    if (advice := kernel_advice()):
        print(f"note: {advice}")
    peak = gemm_gflops()
    print(f"BLAS float32 GEMM, 1024^3, 1 thread: {peak:.0f} GFLOP/s")
    header = (f"{'layer':34s} {'tile':8s} " + " ".join(f"{s:>8s}" for s in STAGES)
              + f" {'sum':>7s} {'GF/s':>5s} | {'bound':>6s} {'fftconv':>7s} {'torch':>6s}")
    print(header)
    print(f"{'':34s} {'':8s} {'one thread, ms':>35s} {'':13s} | "
          f"{args.threads} threads, ms")
    results = []
    for text in args.layer or DEFAULT_LAYERS:
        r = measure(text, args.tile, args.repeats, args.threads, peak)
        results.append(r)
        st = r["stages"]
        torch_ms = f"{r['whole']['torch'] * 1e3:6.2f}" if "torch" in r["whole"] else "     -"
        print(f"{r['layer']:34s} {r['tile']:8s} "
              + " ".join(f"{st[s] * 1e3:8.2f}" for s in STAGES)
              + f" {sum(st.values()) * 1e3:7.2f} {r['products_gflops']:5.0f} | "
              f"{r['products_bound'] * 1e3:6.2f} {r['whole']['winograd'] * 1e3:7.2f} {torch_ms}")
    print("bound: the products alone at the 1024^3 throughput, split over the threads")
    print()
    print(f"backward (both gradients), one thread, ms:\n{'layer':34s} {'tile':8s} "
          + " ".join(f"{s:>7s}" for s in BACKWARD_STAGES) + f" {'sum':>7s}")
    for r in results:
        bw = r["backward"]
        print(f"{r['layer']:34s} {r['tile']:8s} "
              + " ".join(f"{bw[s] * 1e3:7.2f}" for s in BACKWARD_STAGES)
              + f" {sum(bw.values()) * 1e3:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
