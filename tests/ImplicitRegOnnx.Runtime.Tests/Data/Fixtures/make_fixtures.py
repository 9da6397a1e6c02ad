# Writes the .npz/.npy fixtures of the Data tests with NumPy (Debian's python3-numpy):
#   cd tests/ImplicitRegOnnx.Runtime.Tests/Data/Fixtures && /usr/bin/python3 make_fixtures.py
import numpy as np

x = np.arange(24, dtype=np.uint8).reshape(4, 2, 3) * 10
y = np.array([3, 1, 0, 2], dtype=np.int32)
np.savez('xy_uint8.npz', x=x, y=y)
inp = np.array([[0.5, -1.25], [2.0, 3.5], [1e-3, 7.0]], dtype=np.float64)
tgt = np.array([0.25, -0.5, 1.5], dtype=np.float64)
np.savez_compressed('input_target_f64.npz', input=inp, target=tgt, extra=np.zeros(2))
np.savez('no_labels.npz', x=x)
np.save('train_x.npy', np.arange(12, dtype='>i2').reshape(3, 4))
np.save('train_y.npy', np.array([1, 0, 1], dtype=np.uint8))
