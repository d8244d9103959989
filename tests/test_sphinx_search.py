"""The site's search index stems its words with Snowball's C stemmer, with the stems of its Python one."""

from __future__ import annotations

import re
from pathlib import Path

import snowballstemmer
import Stemmer
from snowballstemmer.english_stemmer import EnglishStemmer
from sphinx.search.en import SearchEnglish

REPOSITORY = Path(__file__).resolve().parents[1]


def test_the_search_index_stems_with_snowballs_c_stemmer() -> None:
    # snowballstemmer hands out PyStemmer's stemmer when it is installed (a dependency of qms):
    # stemming took a third of the search index's time at 10,000 items in pure Python
    assert snowballstemmer.stemmer is Stemmer.Stemmer
    assert isinstance(SearchEnglish({}).stemmer, Stemmer.Stemmer)


def test_the_c_stemmer_gives_the_stems_of_the_python_one() -> None:
    # the same site from the same commit whichever stemmer a machine has
    files = [*REPOSITORY.glob("traceability/**/*.yaml"), *REPOSITORY.glob("risk_register/**/*.yaml")]
    words = sorted({word.lower() for file in files for word in re.findall(r"[^\W_]+", file.read_text("utf-8"))})
    assert len(words) > 3000
    fast, slow = Stemmer.Stemmer("english"), EnglishStemmer()
    assert [fast.stemWord(word) for word in words] == [slow.stemWord(word) for word in words]
