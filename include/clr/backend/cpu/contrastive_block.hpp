// The CPU implementation of the symmetric pass's block kernels (contract in
// clr/backend/contrastive_block.hpp). Rows of a block are spread over OpenMP threads;
// the column statistics over chunks of columns, each swept down the block's rows so
// that the inner loops run along contiguous memory and vectorise.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "clr/backend/contrastive_block.hpp"

namespace clr::cpu_impl {

struct ContrastiveBlockKernels {
  static void contrastive_block_stats(const ContrastiveBlock& k) {
    const bool diagonal = k.first_row == k.first_col;
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
      for (int a = 0; a < k.rows; ++a) row_stats(k, a, diagonal);
      if (!diagonal) {
#pragma omp for schedule(static)
        for (int first = 0; first < k.cols; first += kChunk) column_stats(k, first);
      }
    }
  }

  static void contrastive_block_gradient(const ContrastiveBlock& k) {
    const Eigen::Map<const Eigen::ArrayXf> column_lse(k.log_sum_exp + k.first_col, k.cols);
    const Eigen::Map<const Eigen::ArrayXf> column_alpha(k.alpha + k.first_col, k.cols);
#pragma omp parallel for schedule(static)
    for (int a = 0; a < k.rows; ++a) {
      const int i = k.first_row + a;
      float* logits = k.logits + static_cast<long>(a) * k.ld;
      Eigen::Map<Eigen::ArrayXf> s(logits, k.cols);
      s = k.alpha[i] * (s - k.log_sum_exp[i]).exp() + column_alpha * (s - column_lse).exp();
      for_each_positive(k, i, [&](int b, float w_ij, float w_ji) {
        logits[b] -= k.beta[i] * w_ij + k.beta[k.first_col + b] * w_ji;
      });
      const int self = i - k.first_col;
      if (self >= 0 && self < k.cols) logits[self] = 0.0f;
    }
  }

 private:
  static constexpr int kChunk = 64;  // columns per work item of the column statistics

  // Visits the block's columns b whose pair with row i has a non-zero weight either way,
  // self excluded: visit(b, w(i, j), w(j, i)) with j = first_col + b.
  template <class Visit>
  static void for_each_positive(const ContrastiveBlock& k, int i, Visit&& visit) {
    if (k.mask) {
      const int sample_i = i / k.views;
      for (int b = 0; b < k.cols; ++b) {
        const int j = k.first_col + b;
        if (j == i) continue;
        const int sample_j = j / k.views;
        const float w_ij = k.mask[static_cast<long>(sample_i) * k.bsz + sample_j];
        const float w_ji = k.mask[static_cast<long>(sample_j) * k.bsz + sample_i];
        if (w_ij != 0.0f || w_ji != 0.0f) visit(b, w_ij, w_ji);
      }
    } else {
      const int group = k.group[i];
      const int* column_group = k.group + k.first_col;
      for (int b = 0; b < k.cols; ++b)
        if (column_group[b] == group && k.first_col + b != i) visit(b, 1.0f, 1.0f);
    }
  }

  // Running max and sum of exp: values whose sum of exp(v - new_max) is block_sum join a
  // row whose old sum was taken at the old max, rescaled by exp(old max - new max), so
  // rows are merged block by block without holding them (online softmax, Milakov &
  // Gimelshein 2018). A block of no values (new_max = -inf) changes nothing.
  static void merge(float& max, float& sum, float new_max, float block_sum) {
    if (new_max == -std::numeric_limits<float>::infinity()) return;
    sum = sum * std::exp(max - new_max) + block_sum;
    max = new_max;
  }

  static void row_stats(const ContrastiveBlock& k, int a, bool diagonal) {
    const int i = k.first_row + a;
    float* logits = k.logits + static_cast<long>(a) * k.ld;
    Eigen::Map<Eigen::ArrayXf> s(logits, k.cols);
    const float kept = diagonal ? logits[a] : 0.0f;
    if (diagonal) logits[a] = -std::numeric_limits<float>::infinity();
    const float new_max = std::max(k.row_max[i], s.maxCoeff());
    if (new_max != -std::numeric_limits<float>::infinity())
      merge(k.row_max[i], k.row_sum[i], new_max, (s - new_max).exp().sum());
    if (diagonal) logits[a] = kept;

    double count = 0.0, sum = 0.0;
    for_each_positive(k, i, [&](int b, float w_ij, float) {
      count += w_ij;
      sum += double(w_ij) * logits[b];
    });
    k.positives[i] += count;
    k.positive_logits[i] += sum;
  }

  // Statistics of rows j = first_col + b for the chunk of columns b in [first, first +
  // kChunk), from the block's entries s_ab = S[i][j] = S[j][i]. Only off-diagonal blocks:
  // no column meets its own row.
  static void column_stats(const ContrastiveBlock& k, int first) {
    using Chunk = Eigen::Array<float, Eigen::Dynamic, 1, 0, kChunk, 1>;
    using ConstRow = Eigen::Map<const Eigen::ArrayXf>;
    const int width = std::min(kChunk, k.cols - first);
    auto row = [&](int a) {
      return ConstRow(k.logits + static_cast<long>(a) * k.ld + first, width);
    };
    Chunk block_max = Chunk::Constant(width, -std::numeric_limits<float>::infinity());
    for (int a = 0; a < k.rows; ++a) block_max = block_max.max(row(a));
    Chunk new_max(width);
    for (int c = 0; c < width; ++c)
      new_max[c] = std::max(k.row_max[k.first_col + first + c], block_max[c]);
    Chunk sums = Chunk::Zero(width);
    for (int a = 0; a < k.rows; ++a) sums += (row(a) - new_max).exp();
    for (int c = 0; c < width; ++c) {
      const int j = k.first_col + first + c;
      merge(k.row_max[j], k.row_sum[j], new_max[c], sums[c]);
      double count = 0.0, sum = 0.0;
      for_each_positive_in_column(k, j, [&](int a, float w_ji) {
        count += w_ji;
        sum += double(w_ji) * k.logits[static_cast<long>(a) * k.ld + first + c];
      });
      k.positives[j] += count;
      k.positive_logits[j] += sum;
    }
  }

  // Visits the block's rows a with w(j, i) != 0, i = first_row + a, for row j's column.
  template <class Visit>
  static void for_each_positive_in_column(const ContrastiveBlock& k, int j, Visit&& visit) {
    if (k.mask) {
      const float* mask_row = k.mask + static_cast<long>(j / k.views) * k.bsz;
      for (int a = 0; a < k.rows; ++a) {
        const float w = mask_row[(k.first_row + a) / k.views];
        if (w != 0.0f) visit(a, w);
      }
    } else {
      const int group = k.group[j];
      const int* row_group = k.group + k.first_row;
      for (int a = 0; a < k.rows; ++a)
        if (row_group[a] == group) visit(a, 1.0f);
    }
  }
};

}  // namespace clr::cpu_impl
