#!/usr/bin/python3
"""Times OpenBLAS SGEMM (via numpy float32 matmul) for comparison with AlignSharp's Sgemm.

usage: openblas_gemm.py M N K THREADS [REPS]

OpenBLAS 0.3.21 (Debian 12) does not know AMD Zen 5 and falls back to its AVX2 "Haswell" kernels
there; run with OPENBLAS_CORETYPE=SkylakeX to time its AVX-512 kernels instead (about 2x faster).
"""
import os
import sys

if len(sys.argv) < 5:
    sys.exit("usage: openblas_gemm.py M N K THREADS [REPS]")
m, n, k, threads = (int(x) for x in sys.argv[1:5])
reps = int(sys.argv[5]) if len(sys.argv) > 5 else 9
# Must be set before numpy loads OpenBLAS.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(threads)

import ctypes
import ctypes.util
import time
import numpy as np

def _core_name():
    for lib in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            return f().decode()
        except (OSError, AttributeError, TypeError):
            continue
    return "unknown"

print(f"openblas core: {_core_name()}, threads: {threads}")

rng = np.random.default_rng(0)
a = rng.standard_normal((m, k), dtype=np.float32)
b = rng.standard_normal((k, n), dtype=np.float32)
c = np.empty((m, n), dtype=np.float32)
flop = 2.0 * m * n * k
inner = max(1, int(2e9 / max(flop, 1)))  # keep each sample well above timer resolution

for _ in range(3):
    np.matmul(a, b, out=c)
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    for _ in range(inner):
        np.matmul(a, b, out=c)
    times.append((time.perf_counter() - t0) / inner)
times.sort()
med = times[len(times) // 2]
print(f"openblas gemm {m}x{n}x{k}: {flop / med / 1e9:.1f} GFLOP/s")
