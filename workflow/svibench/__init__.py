"""svibench: how good and how fast is each NumPyro SVI guide compared with MCMC.

Importing the package imports neither JAX nor Snakemake, so `svibench.runtime` can
configure JAX (platform, threads, compilation cache) before JAX starts.
"""

__version__ = "0.1.0"
