#ifndef MINNOW_CHDF5_SHIM_H
#define MINNOW_CHDF5_SHIM_H

#include <hdf5.h>

// HDF5's type, property-list and file-access constants are macros that call H5open();
// Swift cannot import them, so these accessors return their values.

static inline hid_t minnow_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t minnow_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t minnow_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t minnow_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t minnow_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t minnow_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t minnow_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
static inline hid_t minnow_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t minnow_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t minnow_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t minnow_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t minnow_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t minnow_H5T_C_S1(void) { return H5T_C_S1; }
static inline size_t minnow_H5T_VARIABLE(void) { return H5T_VARIABLE; }

static inline hid_t minnow_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t minnow_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t minnow_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }

static inline hid_t minnow_H5S_ALL(void) { return H5S_ALL; }

static inline unsigned minnow_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned minnow_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }

#endif
