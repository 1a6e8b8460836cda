// stb_image (Debian's libstb-dev) compiled into each translation unit that decodes images,
// without breaking the header-only build.
//
// stb_image is a single header whose definitions appear where STB_IMAGE_IMPLEMENTATION is
// defined; a library that defined it with the default external linkage would put
// `stbi_load_from_memory` into every translation unit that includes clr, and two of them
// linked together (or one linked with the program's own stb, or with libstb.so) would
// fail with duplicate symbols. STB_IMAGE_STATIC gives every stb function internal linkage
// instead: each translation unit gets a private copy that the linker never matches against
// another, at the price of some code per translation unit (kept small by compiling only the
// PNG, JPEG and BMP decoders). The copies come from the same source with the same macros,
// so the inline clr functions that call them behave the same whichever copy the linker
// keeps. stb's error string is thread_local (STBI_THREAD_LOCAL, on for C++11), so the
// loader's workers can decode at the same time.
//
// Other choices: STBI_NO_STDIO, because clr reads the file itself (one code path for files
// and the fuzzer's buffers, and errors that name the path); STBI_MAX_DIMENSIONS, so a header
// claiming a 2^24-pixel side is refused before stb allocates for it; zeroed allocations,
// because stb 2.27 decodes a JPEG scan that names a Huffman table no DHT segment defined
// with whatever its malloc left there — garbage that indexes past the table (fuzz_image
// found it) — while an all-zero table only ever yields symbol 0. stb_guard.hpp covers the
// rest of what fuzzing found.
//
// A translation unit that uses stb_image itself includes <stb/stb_image.h> before clr's
// headers: clr then calls the program's own stb (whose implementation the program links)
// rather than compiling a second one, which would not compile after the first, and
// CLR_DATA_HAS_OWN_STB_IMAGE is 0. stb_guard.hpp's checks still run; the zeroed
// allocations are then the program's to choose.
#pragma once

#ifndef STBI_INCLUDE_STB_IMAGE_H
#define CLR_DATA_HAS_OWN_STB_IMAGE 1
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_MAX_DIMENSIONS (1 << 15)
#define STBI_MALLOC(size) calloc(1, size)
#define STBI_REALLOC(pointer, size) realloc(pointer, size)
#define STBI_FREE(pointer) free(pointer)
#include <stb/stb_image.h>
// Leave no stb switch on for a later include of stb's headers.
#undef STB_IMAGE_IMPLEMENTATION
#undef STB_IMAGE_STATIC
#undef STBI_NO_STDIO
#undef STBI_ONLY_PNG
#undef STBI_ONLY_JPEG
#undef STBI_ONLY_BMP
#undef STBI_MAX_DIMENSIONS
#undef STBI_MALLOC
#undef STBI_REALLOC
#undef STBI_FREE
#elif !defined(CLR_DATA_HAS_OWN_STB_IMAGE)
#define CLR_DATA_HAS_OWN_STB_IMAGE 0
#endif
