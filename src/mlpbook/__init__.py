"""mlpbook: the small helper package of the course "Multilayer perceptrons with PyTorch".

Modules: ``data`` (data sets), ``plot`` (figures), ``train`` (the training
loop), ``check`` (exercise checks) and ``utils`` (seeds and devices).
"""

__version__ = "0.1.0"
