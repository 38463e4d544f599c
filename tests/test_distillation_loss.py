"""qa train-reader --teacher: the distillation term, against hand-computed Kullback-Leibler divergences."""

import math

import pytest
import torch

from qa.training.span_reader import distillation_loss


def _kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def test_distillation_loss_is_the_teachers_kl_over_answered_windows_without_padding():
    # window 0 holds an answer; its third position is padding, where the teacher's huge logit must not count
    student = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    teacher = torch.tensor([[math.log(3.0), 0.0, 50.0], [0.0, 9.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    answered = torch.tensor([True, False])  # window 1 is a "no answer" window: the teacher is not asked
    want = _kl([0.75, 0.25], [0.5, 0.5])  # 0.1308...
    got = distillation_loss(student, student, teacher, teacher, mask, answered, temperature=1.0)
    assert got.item() == pytest.approx(want, rel=1e-5)
    # temperature T softens both sides and scales by T^2
    p = [3 ** 0.5 / (3 ** 0.5 + 1), 1 / (3 ** 0.5 + 1)]
    got2 = distillation_loss(student, student, teacher, teacher, mask, answered, temperature=2.0)
    assert got2.item() == pytest.approx(4 * _kl(p, [0.5, 0.5]), rel=1e-5)
    # start and end are averaged: a perfect end halves the loss
    assert distillation_loss(student, teacher, teacher, teacher, mask, answered, 1.0).item() == pytest.approx(want / 2, rel=1e-5)
    # no answered window: nothing to distil
    assert distillation_loss(student, student, teacher, teacher, mask, torch.tensor([False, False]), 1.0).item() == 0.0
    # gradient flows to the student only through the answered window
    s = student.clone().requires_grad_(True)
    distillation_loss(s, s, teacher, teacher, mask, answered, 1.0).backward()
    assert s.grad[1].abs().sum().item() == 0.0 and s.grad[0, :2].abs().sum().item() > 0
