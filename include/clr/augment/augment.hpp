// Everything of clr::augment: pictures, transforms, composition, multi-view, presets.
#pragma once

#include "clr/augment/color.hpp"
#include "clr/augment/color_jitter.hpp"
#include "clr/augment/compose.hpp"
#include "clr/augment/flip.hpp"
#include "clr/augment/float_image.hpp"
#include "clr/augment/gaussian_blur.hpp"
#include "clr/augment/grayscale.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/multi_view.hpp"
#include "clr/augment/normalize.hpp"
#include "clr/augment/presets.hpp"
#include "clr/augment/random_apply.hpp"
#include "clr/augment/random_resized_crop.hpp"
#include "clr/augment/resample.hpp"
#include "clr/augment/resize.hpp"
#include "clr/augment/transform.hpp"
