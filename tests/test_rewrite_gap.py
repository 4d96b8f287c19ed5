"""The rewrite-gap diagnostic's sentence alignment (training/rewrite_gap.py): the measure
the model card quotes for seeds 002 and 003 must mean what it says."""

from training.rewrite_gap import aligned_share, sentence_terms

SOURCE = ("Treasury Secretary Scott Bessent met Vice Premier He Lifeng in Kuala Lumpur on Saturday. "
          "The talks aimed to avert new tariffs on Chinese goods and curbs on rare earth magnets. "
          "Officials gave few details about the venue, the Merdeka 118 tower.")
RETOLD = ("On Saturday in Kuala Lumpur, Bessent, the Treasury Secretary, held talks with Vice "
          "Premier He Lifeng. Averting tariffs on goods from China and curbs on magnets made "
          "from rare earths was the aim.")
OTHER = ("The striker scored twice in the second half as the home side won the derby. "
         "The manager praised the young defenders after a difficult week of injuries.")


def test_terms_are_stemmed_content_words_by_sentence():
    terms = sentence_terms(SOURCE)
    assert len(terms) == 3
    assert "tariff" in terms[1] and "the" not in terms[1]
    assert terms[0]["bessent"] > terms[1]["tariff"] > 0  # rarer words weigh more


def test_a_retelling_aligns_and_an_unrelated_story_does_not():
    assert aligned_share(SOURCE, SOURCE) == 1.0
    assert aligned_share(RETOLD, SOURCE) == 1.0  # every retold sentence has its source
    assert aligned_share(SOURCE, RETOLD) < 1.0  # the venue sentence was not retold
    assert aligned_share(OTHER, SOURCE) == 0.0
    assert aligned_share("", SOURCE) == 0.0
