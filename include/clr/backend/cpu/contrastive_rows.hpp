// The CPU implementation of the loss's fused row kernel (contract in
// clr/backend/contrastive_rows.hpp). One row at a time, OpenMP across rows; each row is
// read a few times while it sits in cache: positives, max, exp, scale.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "clr/backend/contrastive_rows.hpp"

namespace clr::cpu_impl {

struct ContrastiveKernel {
  static void contrastive_rows(const ContrastiveRows& k) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < k.rows; ++i) row(k, i);
  }

 private:
  struct Positives {
    double count = 0.0;         // p = sum_j w_j
    double weighted_sum = 0.0;  // sum_j w_j s_j, in double: up to N terms of size 1/T
  };

  // Visits every (column, weight) with a non-zero positive weight, self excluded.
  template <class Visit>
  static void for_each_positive(const ContrastiveRows& k, int self, Visit&& visit) {
    if (k.mask) {
      const float* mask_row = k.mask + static_cast<long>(self / k.views) * k.bsz;
      for (int sample = 0; sample < k.bsz; ++sample) {
        const float weight = mask_row[sample];
        if (weight == 0.0f) continue;
        for (int j = sample * k.views; j < (sample + 1) * k.views; ++j)
          if (j != self) visit(j, weight);
      }
    } else {
      const int group = k.group[self];
      for (int j = 0; j < k.cols; ++j)
        if (k.group[j] == group && j != self) visit(j, 1.0f);
    }
  }

  static void row(const ContrastiveRows& k, int i) {
    float* logits = k.logits + static_cast<long>(i) * k.ld;
    Eigen::Map<Eigen::ArrayXf> s(logits, k.cols);
    const int anchor = k.first_anchor + i;
    const int self = k.self_offset + anchor * k.anchor_stride;

    Positives pos;
    for_each_positive(k, self, [&](int j, float weight) {
      pos.count += weight;
      pos.weighted_sum += weight * logits[j];
    });

    // log-sum-exp over j != self, its max subtracted so that exp never overflows and the
    // largest term is 1: the sum is >= 1 and its log finite for any temperature.
    logits[self] = -std::numeric_limits<float>::infinity();
    const float max = s.maxCoeff();
    s = (s - max).exp();
    logits[self] = 0.0f;
    const float total = s.sum();
    const float log_sum_exp = max + std::log(total);

    const auto count = static_cast<float>(pos.count);
    const float denominator = count < 1e-6f ? 1.0f : count;
    k.mean_log_prob_pos[anchor] =
        static_cast<float>((pos.weighted_sum - pos.count * log_sum_exp) / denominator);
    k.positives[anchor] = count;

    // ds_j = c (p softmax_j - w_j) / p'
    const float weight = k.sample_weights ? k.sample_weights[self / k.views] : 1.0f;
    const float coefficient = weight / denominator;
    s *= coefficient * count / total;
    for_each_positive(k, self, [&](int j, float w) { logits[j] -= coefficient * w; });
  }
};

}  // namespace clr::cpu_impl
