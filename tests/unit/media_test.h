/* Shared by test_media.c, media_formats.c and media_robust.c. */
#ifndef WARD_TEST_MEDIA_H
#define WARD_TEST_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "ward/media.h"

/* ward_media_decode with max_pixels |max| (0: default); reports an |out|
 * that is not zeroed after a failure. */
ward_err t_decode(const uint8_t *p, size_t n, uint64_t max, ward_image *img);
/* A w x h test picture with |ch| channels (malloc'd). */
uint8_t *t_picture(int w, int h, int ch);

/* Each returns its number of failed checks. */
int t_formats(void);
int t_exif_orient(void);
int t_robust(void);

#endif
