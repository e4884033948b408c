import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))  # tests/torch_oracle.py
torch.set_num_threads(1)
torch.manual_seed(0)
