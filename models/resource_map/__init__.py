"""The territory's resource map (карта ресурсов территории): its policy, the rules that rank
providers and curators, and the CSV import's row checks. Pure: no I/O but the policy file."""
