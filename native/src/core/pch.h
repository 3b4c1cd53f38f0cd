// Precompiled header: libtorch's headers dominate compile time (~15 s per translation unit).
#pragma once
#include <ATen/ATen.h>
#include <torch/nn.h>
#include <torch/optim.h>
#include <torch/autograd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>
