"""Rules of written Chinese that both what is read (content/) and how it sounds (speech/) need,
stated once: where a sentence ends. It imports nothing of tingwen's, so both may use it."""
