import Engine

// Before anything touches BLAS: re-exec with OPENBLAS_CORETYPE set if the loaded kernels
// are slower than this CPU allows (see BLASCore).
BLASCore.ensureFastKernels()
RSTrain.main()
