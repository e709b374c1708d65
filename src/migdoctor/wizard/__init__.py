"""The fix wizard: plan, policy, runners, backup, run, journal (see design section 7).

Nothing is imported here: `migdoctor diagnose` never pays for the wizard.
"""
