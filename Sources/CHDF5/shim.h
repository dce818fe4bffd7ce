// HDF5's type and property-list constants (`H5T_NATIVE_FLOAT`, `H5P_DEFAULT`, `H5F_ACC_RDONLY`,
// `H5S_ALL`) are macros that expand to globals after H5open(); Swift sees none of them.
#ifndef RSTRAIN_CHDF5_SHIM_H
#define RSTRAIN_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t rs_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t rs_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t rs_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t rs_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t rs_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t rs_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t rs_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t rs_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t rs_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t rs_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t rs_h5s_all(void) { return H5S_ALL; }
static inline unsigned rs_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned rs_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned rs_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned rs_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline hid_t rs_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline size_t rs_h5t_variable(void) { return H5T_VARIABLE; }
/// Silence HDF5's automatic error stack printing; rstrain reports errors itself.
static inline void rs_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
