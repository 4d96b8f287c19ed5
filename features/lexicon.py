"""Shared word statistics: stop words and word rarity from ``wordfreq`` (data ships in the
package, so nothing is fetched at run time). Cached per distinct word."""

from __future__ import annotations

from functools import lru_cache

#: scikit-learn's ``ENGLISH_STOP_WORDS`` (the Glasgow Information Retrieval Group list),
#: frozen here because importing scikit-learn costs a second at every CLI start;
#: ``tests/test_schema.py`` checks it still equals the library's.
SKLEARN_STOP_WORDS: frozenset[str] = frozenset({
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all",
    "almost", "alone", "along", "already", "also", "although", "always", "am", "among",
    "amongst", "amoungst", "amount", "an", "and", "another", "any", "anyhow", "anyone",
    "anything", "anyway", "anywhere", "are", "around", "as", "at", "back", "be", "became",
    "because", "become", "becomes", "becoming", "been", "before", "beforehand", "behind",
    "being", "below", "beside", "besides", "between", "beyond", "bill", "both", "bottom",
    "but", "by", "call", "can", "cannot", "cant", "co", "con", "could", "couldnt", "cry", "de",
    "describe", "detail", "do", "done", "down", "due", "during", "each", "eg", "eight",
    "either", "eleven", "else", "elsewhere", "empty", "enough", "etc", "even", "ever", "every",
    "everyone", "everything", "everywhere", "except", "few", "fifteen", "fifty", "fill",
    "find", "fire", "first", "five", "for", "former", "formerly", "forty", "found", "four",
    "from", "front", "full", "further", "get", "give", "go", "had", "has", "hasnt", "have",
    "he", "hence", "her", "here", "hereafter", "hereby", "herein", "hereupon", "hers",
    "herself", "him", "himself", "his", "how", "however", "hundred", "i", "ie", "if", "in",
    "inc", "indeed", "interest", "into", "is", "it", "its", "itself", "keep", "last", "latter",
    "latterly", "least", "less", "ltd", "made", "many", "may", "me", "meanwhile", "might",
    "mill", "mine", "more", "moreover", "most", "mostly", "move", "much", "must", "my",
    "myself", "name", "namely", "neither", "never", "nevertheless", "next", "nine", "no",
    "nobody", "none", "noone", "nor", "not", "nothing", "now", "nowhere", "of", "off", "often",
    "on", "once", "one", "only", "onto", "or", "other", "others", "otherwise", "our", "ours",
    "ourselves", "out", "over", "own", "part", "per", "perhaps", "please", "put", "rather",
    "re", "same", "see", "seem", "seemed", "seeming", "seems", "serious", "several", "she",
    "should", "show", "side", "since", "sincere", "six", "sixty", "so", "some", "somehow",
    "someone", "something", "sometime", "sometimes", "somewhere", "still", "such", "system",
    "take", "ten", "than", "that", "the", "their", "them", "themselves", "then", "thence",
    "there", "thereafter", "thereby", "therefore", "therein", "thereupon", "these", "they",
    "thick", "thin", "third", "this", "those", "though", "three", "through", "throughout",
    "thru", "thus", "to", "together", "too", "top", "toward", "towards", "twelve", "twenty",
    "two", "un", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "well",
    "were", "what", "whatever", "when", "whence", "whenever", "where", "whereafter", "whereas",
    "whereby", "wherein", "whereupon", "wherever", "whether", "which", "while", "whither",
    "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within", "without",
    "would", "yet", "you", "your", "yours", "yourself", "yourselves",
})
STOP_WORDS: frozenset[str] = SKLEARN_STOP_WORDS | {"s", "t", "said", "says", "mr", "mrs"}


def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


_zipf_cached = lru_cache(maxsize=50_000)(_zipf)
#: Longest word whose frequency is cached (bounds the cache's bytes; longer words are rare
#: and looked up each time).
MAX_CACHED_WORD_CHARS = 40


def zipf(word: str) -> float:
    """Zipf frequency of a lower-case word in English (0 = unseen, 7+ = "the")."""
    return _zipf_cached(word) if len(word) <= MAX_CACHED_WORD_CHARS else _zipf(word)


def idf_weight(word: str) -> float:
    """How much a shared word says about topic: rare words weigh more (0.5..8)."""
    return max(0.5, 8.0 - zipf(word))


def content_words(words: list[str]) -> list[str]:
    """Lower-case words that carry topic: no stop words, no 1-letter words or numbers."""
    return [w for w in words if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]
