// libpng's simplified API (png_image_*): decoding without setjmp/longjmp.
#include <png.h>
