"""Tests for the unified social credit code helpers (GB 32100-2015)."""

from __future__ import annotations

import time

import pytest

from domain.supervision.uscc import (
    USCC_ALPHABET,
    WEIGHTS,
    UsccError,
    check_character,
    make_uscc,
    make_uscc_from_int,
    region_of,
    validate_uscc,
)

# Real, published codes whose check characters the algorithm confirms.
REAL_CODES = [
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "91350100M000100Y43",  # example code printed in GB 32100-2015
]


def test_alphabet_and_weights() -> None:
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_validate(code: str) -> None:
    assert validate_uscc(code) == code
    assert check_character(code[:17]) == code[17]


def test_validate_normalises() -> None:
    assert validate_uscc("  91350100m000100y43 \n") == "91350100M000100Y43"


# Hand-computed examples.  Character values: digits 0-9, A=10 B=11 C=12 D=13 E=14 F=15 G=16 H=17 J=18
# K=19 L=20 M=21 N=22 P=23 Q=24 R=25 T=26 U=27 W=28 X=29 Y=30; weights (positions 1-17)
# 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28; check = 31 - (sum mod 31), 31 -> 0.
HAND_COMPUTED = [
    # 9*1 + 1*3 + 3*9 + 2*27 + 0*19 + 5*26 = 223; 223 mod 31 = 6; 31 - 6 = 25 -> R
    ("91320500000000000", "R"),
    # 9*1 + 1*3 + 3*9 + 2*27 + 5*26 + 5*17 + M(21)*20 + A(10)*29 + 1*25 + M(21)*13 + A(10)*8 + B(11)*24
    # + C(12)*10 + D(13)*30 + E(14)*28 = 2562; 2562 mod 31 = 20; 31 - 20 = 11 -> B
    ("91320505MA1MABCDE", "B"),
    # 9*1 + 2*3 + 3*9 + 2*27 + 5*26 + 8*17 + 1*28 = 390; 390 mod 31 = 18; 31 - 18 = 13 -> D
    ("92320508000000001", "D"),
    # 5*1 + 2*3 + 3*9 + 2*27 + 5*26 + M(21)*20 + J(18)*29 + 1*28 = 1192; 1192 mod 31 = 14; 31 - 14 = 17 -> H
    ("52320500MJ0000001", "H"),
    # 9*1 + 3*3 + 3*9 + 2*27 + 5*26 + 8*16 + 1*17 + 2*30 = 434 = 14*31; 434 mod 31 = 0; 31 - 0 = 31 -> 0
    ("93320581000000020", "0"),
    # 9*1 + 1*3 + 3*9 + 2*27 + 5*26 + 6*17 + 2*30 + 4*28 = 497; 497 mod 31 = 1; 31 - 1 = 30 -> Y
    ("91320506000000024", "Y"),
]


@pytest.mark.parametrize(("first17", "expected"), HAND_COMPUTED)
def test_hand_computed_check_characters(first17: str, expected: str) -> None:
    assert check_character(first17) == expected
    assert validate_uscc(first17 + expected) == first17 + expected


@pytest.mark.parametrize("code", ["", "9132050500000000", "91320500000000000R0"])
def test_length_error(code: str) -> None:
    with pytest.raises(UsccError) as info:
        validate_uscc(code)
    err = info.value
    assert err.code == "length"
    assert isinstance(err, ValueError)
    assert f"实际为{len(code)}位" in str(err)
    assert str(err) == err.message_zh
    assert f"got {len(code)}" in err.message_en


@pytest.mark.parametrize(
    ("code", "position", "char"),
    [
        ("9132I500000000000R", 5, "I"),
        ("O1320500000000000R", 1, "O"),
        ("91320500000000000Z", 18, "Z"),
        ("913205000000-0000R", 13, "-"),
    ],
)
def test_alphabet_error(code: str, position: int, char: str) -> None:
    with pytest.raises(UsccError) as info:
        validate_uscc(code)
    err = info.value
    assert err.code == "alphabet"
    assert err.position == position
    assert str(err) == f"第{position}位字符“{char}”不在统一社会信用代码字符集中"
    assert f"position {position}" in err.message_en


def test_check_character_error() -> None:
    with pytest.raises(UsccError) as info:
        validate_uscc("91320500000000000A")
    err = info.value
    assert err.code == "check_character"
    assert err.position == 18
    assert "第18位" in str(err)
    assert "“R”" in str(err)
    assert "position 18" in err.message_en


def test_every_wrong_check_character_is_rejected() -> None:
    first17 = "91320505MA1MABCDE"
    for ch in USCC_ALPHABET:
        if ch == "B":
            continue
        with pytest.raises(UsccError):
            validate_uscc(first17 + ch)


def test_region_of() -> None:
    assert region_of("91320583MA1MABCDEB") == "320583"
    assert region_of(" 914403001922038216 ") == "440300"


def test_make_uscc() -> None:
    assert make_uscc("320505", "MA1MABCDE") == "91320505MA1MABCDEB"
    assert make_uscc("320508", "000000001", category="2") == "92320508000000001D"
    assert make_uscc("320500", "mj0000001", authority="5", category="2") == "52320500MJ0000001H"
    with pytest.raises(UsccError) as info:
        make_uscc("320505", "MA1MIBCDE")
    assert info.value.code == "alphabet"
    assert info.value.position == 13
    with pytest.raises(UsccError) as info:
        make_uscc("320505", "MA1")
    assert info.value.code == "length"
    with pytest.raises(ValueError):
        make_uscc("3205", "MA1MABCDE")


def test_make_uscc_from_int_distinct_and_valid() -> None:
    codes = [make_uscc_from_int("320583", n) for n in range(10_000)]
    assert len(set(codes)) == 10_000
    for code in codes:
        assert validate_uscc(code) == code
        assert code.startswith("91")
        assert region_of(code) == "320583"
    # deterministic
    assert make_uscc_from_int("320583", 1234) == codes[1234]
    # other authority / category
    code = make_uscc_from_int("320508", 7, authority="9", category="2")
    assert validate_uscc(code).startswith("92320508")
    with pytest.raises(ValueError):
        make_uscc_from_int("320583", -1)
    with pytest.raises(ValueError):
        make_uscc_from_int("320583", 31**9)


def test_make_uscc_from_int_is_fast() -> None:
    make_uscc_from_int("320505", 0)  # build the lookup tables
    start = time.perf_counter()
    for n in range(200_000):
        make_uscc_from_int("320505", n)
    assert time.perf_counter() - start < 5.0
