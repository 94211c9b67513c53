// libjpeg-turbo's TurboJPEG API: JPEG decoding that reports errors by return code.
#include <turbojpeg.h>
