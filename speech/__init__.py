"""How tingwen sounds and hears: text → spoken form → audio, and audio → command."""
