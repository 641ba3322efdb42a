"""The spec book: the decrees clause by clause, the Russian Gherkin scenarios that check each
clause and their last result, and the reason for every clause that is not automated."""
