// stb_image_write (Debian's libstb-dev) compiled into each translation unit that writes
// plots, for the reasons data/detail/stb_image.hpp gives for stb_image: STB_IMAGE_WRITE_STATIC
// gives every stb function internal linkage, so two clr translation units, or clr and a
// program with its own stb_image_write (or libstb.so), link without duplicate symbols.
// STBI_WRITE_NO_STDIO, because clr writes the file itself (atomically, with errors that
// name the path); only the PNG encoder is called, and the linker drops the rest.
//
// A translation unit that uses stb_image_write itself includes <stb/stb_image_write.h>
// before clr's headers: clr then calls the program's own copy (whose implementation the
// program compiles) rather than a second one, which would not compile after the first,
// and CLR_VIZ_HAS_OWN_STB_IMAGE_WRITE is 0.
#pragma once

#ifndef INCLUDE_STB_IMAGE_WRITE_H
#define CLR_VIZ_HAS_OWN_STB_IMAGE_WRITE 1
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>
// Leave no stb switch on for a later include of stb's headers.
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_STATIC
#undef STBI_WRITE_NO_STDIO
#elif !defined(CLR_VIZ_HAS_OWN_STB_IMAGE_WRITE)
#define CLR_VIZ_HAS_OWN_STB_IMAGE_WRITE 0
#endif
