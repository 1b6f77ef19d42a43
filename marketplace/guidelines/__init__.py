"""The guideline authority's publications: guideline versions, scopes, kitemark schemes, data APIs."""
