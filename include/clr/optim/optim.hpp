// clr::optim: the optimizers (SGD, LARS, AdamW) and the learning-rate schedules.
#pragma once

#include "clr/optim/adamw.hpp"
#include "clr/optim/lars.hpp"
#include "clr/optim/optimizer.hpp"
#include "clr/optim/schedule.hpp"
#include "clr/optim/sgd.hpp"
