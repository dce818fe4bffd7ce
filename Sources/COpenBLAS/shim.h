// OpenBLAS's CBLAS interface plus its runtime controls (core name, thread count).
// Debian installs cblas.h under .../openblas-pthread/; pkg-config `openblas` adds that path.
#ifndef RSTRAIN_COPENBLAS_SHIM_H
#define RSTRAIN_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
