// Open MPI's handles are macros over globals (`MPI_COMM_WORLD` is `&ompi_mpi_comm_world`);
// Swift cannot import them, so each is a static inline function here. Nothing else.
#ifndef RSTRAIN_CMPI_SHIM_H
#define RSTRAIN_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm rs_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm rs_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype rs_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype rs_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype rs_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype rs_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype rs_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op rs_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op rs_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op rs_mpi_min(void) { return MPI_MIN; }
static inline void *rs_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *rs_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int rs_mpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int rs_mpi_any_tag(void) { return MPI_ANY_TAG; }
static inline int rs_mpi_undefined(void) { return MPI_UNDEFINED; }
static inline MPI_Request rs_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Info rs_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline int rs_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline MPI_Errhandler rs_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Status *rs_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline int rs_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int rs_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int rs_mpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
#endif
