"""The type names of the workflows a case starts as children. A parent starts a child by its
name rather than by its class: importing the child's module into the parent's module would
make the sandbox build both workflows again for every case it opens or replays."""

FOLLOW_UP_WORKFLOW = "CaseFollowUpWorkflow"
SOCIAL_CONTRACT_WORKFLOW = "SocialContractWorkflow"
