// OpenBLAS's own cblas.h (pkg-config puts its folder first on the include path);
// it also declares openblas_set_num_threads and openblas_get_num_threads.
#include <cblas.h>
