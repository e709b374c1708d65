"""From raw text to findings: normalize, prefilter, regex, fuzzy fallback, ranking."""
