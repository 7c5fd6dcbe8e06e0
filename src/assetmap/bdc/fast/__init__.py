"""The fast (numba) engine of :func:`assetmap.aggregate_bdc`: see :mod:`.engine`."""
