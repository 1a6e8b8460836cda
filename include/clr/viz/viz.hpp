// Plots as PNG files: training curves, scatter plots of 2-D maps, and Barnes-Hut t-SNE.
#pragma once

#include "clr/viz/affinities.hpp"
#include "clr/viz/axes.hpp"
#include "clr/viz/canvas.hpp"
#include "clr/viz/color.hpp"
#include "clr/viz/csv.hpp"
#include "clr/viz/line_plot.hpp"
#include "clr/viz/npy_labels.hpp"
#include "clr/viz/png.hpp"
#include "clr/viz/quadtree.hpp"
#include "clr/viz/scatter_plot.hpp"
#include "clr/viz/ticks.hpp"
#include "clr/viz/tsne.hpp"
