// Demo LMS: submit the launch form at once; without JavaScript its button does it.
document.getElementById("demo-autopost").submit();
